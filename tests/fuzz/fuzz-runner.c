/* fuzz-runner.c: runs a libFuzzer target without libFuzzer (gcc builds,
 * CI): over every file of a corpus directory, then over seeded mutations
 * of them for a bounded time.
 *
 *   fuzz-runner [--seconds N] [--seed S] CORPUS-DIR
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-fuzz"

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
bytes_insert (GByteArray   *array,
              guint         pos,
              const guint8 *data,
              guint         len)
{
  guint old = array->len;

  g_byte_array_set_size (array, old + len);
  memmove (array->data + pos + len, array->data + pos, old - pos);
  memcpy (array->data + pos, data, len);
}

static GBytes *
mutate (GRand  *rand,
        GBytes *input)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (input, &len);
  GByteArray *out = g_byte_array_sized_new ((guint) len + 64);
  guint n = 1 + g_rand_int_range (rand, 0, 8);
  static const char *tokens[] = { "{", "}", "(", ")", "\r\n", " ", "\"", "\\", "NIL", "{5}\r\n",
                                  "~{3}\r\n", "{99999999999999999999}\r\n", "[", "]", "*", "+",
                                  "BODY[", "((((((((", "\xff\xfe", "&-", "&AGE",
                                  /* POP3, SMTP, MIME, XML, search */
                                  "\r\n.\r\n", "+OK ", "-ERR [", "+ ", "250-", "354 ", "5.1.1 ",
                                  "\r\n--", "boundary=", "=?utf-8?B?", "charset=", "</",
                                  "<incomingServer>", "%EMAILADDRESS%", "from:", "\"" };

  g_byte_array_append (out, data, (guint) len);
  for (guint i = 0; i < n; i++)
    {
      guint pos = out->len > 0 ? (guint) g_rand_int_range (rand, 0, (gint32) out->len) : 0;

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0: /* flip a byte */
          if (out->len > 0)
            out->data[pos] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
          break;
        case 1: /* delete a run */
          if (out->len > 0)
            {
              guint n_del = (guint) g_rand_int_range (rand, 1, 16);
              g_byte_array_remove_range (out, pos, MIN (out->len - pos, n_del));
            }
          break;
        case 2: /* insert a token */
          {
            const char *t = tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))];
            bytes_insert (out, pos, (const guint8 *) t, (guint) strlen (t));
          }
          break;
        case 3: /* random byte */
          {
            guint8 b = (guint8) g_rand_int_range (rand, 0, 256);
            bytes_insert (out, pos, &b, 1);
          }
          break;
        default: /* duplicate a run */
          if (out->len > 0 && out->len < 1024 * 1024)
            {
              guint n_dup = (guint) g_rand_int_range (rand, 1, 64);
              n_dup = MIN (out->len - pos, n_dup);
              g_autofree guint8 *copy = g_memdup2 (out->data + pos, n_dup);
              bytes_insert (out, pos, copy, n_dup);
            }
          break;
        }
    }
  return g_byte_array_free_to_bytes (out);
}

static gint
compare_bytes (gconstpointer a,
               gconstpointer b)
{
  return g_bytes_compare (*(GBytes *const *) a, *(GBytes *const *) b);
}

int
main (int   argc,
      char *argv[])
{
  double seconds = 3;
  guint32 seed = 20261126;
  const char *dir = NULL;
  g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) d = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GTimer) timer = NULL;
  const char *name;
  guint runs = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--seconds") && i + 1 < argc)
        seconds = g_ascii_strtod (argv[++i], NULL);
      else if (g_str_equal (argv[i], "--seed") && i + 1 < argc)
        seed = (guint32) g_ascii_strtoull (argv[++i], NULL, 10);
      else
        dir = argv[i];
    }
  if (dir == NULL)
    {
      fprintf (stderr, "usage: fuzz-runner [--seconds N] [--seed S] CORPUS-DIR\n");
      return 2;
    }
  d = g_dir_open (dir, 0, &error);
  if (d == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      char *contents;
      gsize len;

      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      g_ptr_array_add (inputs, g_bytes_new_take (contents, len));
    }
  /* Directory order is not stable: sort for a reproducible run. */
  g_ptr_array_sort (inputs, compare_bytes);
  if (inputs->len == 0)
    {
      fprintf (stderr, "%s: empty corpus\n", dir);
      return 2;
    }

  for (guint i = 0; i < inputs->len; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (inputs, i), &len);

      LLVMFuzzerTestOneInput (data, len);
      runs++;
    }

  rand = g_rand_new_with_seed (seed);
  timer = g_timer_new ();
  while (g_timer_elapsed (timer, NULL) < seconds)
    {
      GBytes *input = g_ptr_array_index (inputs, g_rand_int_range (rand, 0, (gint32) inputs->len));
      g_autoptr(GBytes) mutated = mutate (rand, input);
      gsize len;
      const guint8 *data = g_bytes_get_data (mutated, &len);

      LLVMFuzzerTestOneInput (data, len);
      runs++;
    }
  printf ("%u inputs (%u corpus files), seed %u, no crash\n", runs, inputs->len, seed);
  return 0;
}
