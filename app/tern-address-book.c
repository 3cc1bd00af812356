/* tern-address-book.c: the people in the cache, for address completion.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-address-book"

#include "config.h"

#include <gmime/gmime.h>
#include <sqlite3.h>
#include <string.h>

#include "tern-address-book.h"
#include "tern-mail-store-private.h"

typedef struct
{
  char *name;    /* NULL when never seen with one */
  char *address;
  char *folded;  /* "address name" folded, for matching */
  guint count;
} Person;

struct _TernAddressBook
{
  GObject parent_instance;

  GHashTable *people; /* folded address -> Person */
  GPtrArray *ranked;  /* Persons by count, NULL when it needs sorting */
};

G_DEFINE_FINAL_TYPE (TernAddressBook, tern_address_book, G_TYPE_OBJECT)

static void
person_free (Person *person)
{
  g_free (person->name);
  g_free (person->address);
  g_free (person->folded);
  g_free (person);
}

/* Case-insensitive in every script: "Боб" and "БОБ" fold the same. */
static char *
fold (const char *text)
{
  g_autofree char *normal = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normal != NULL ? normal : "", -1);
}

static void
update_folded (Person *person)
{
  g_autofree char *key = g_strconcat (person->address, " ", person->name ? person->name : "",
                                      NULL);

  g_free (person->folded);
  person->folded = fold (key);
}

void
tern_address_book_add (TernAddressBook *self,
                       const char      *name,
                       const char      *address)
{
  g_autofree char *key = NULL;
  Person *person;

  g_return_if_fail (TERN_IS_ADDRESS_BOOK (self));

  if (address == NULL || strchr (address, '@') == NULL)
    return;
  key = fold (address);
  person = g_hash_table_lookup (self->people, key);
  if (person == NULL)
    {
      person = g_new0 (Person, 1);
      person->address = g_strdup (address);
      g_hash_table_insert (self->people, g_steal_pointer (&key), person);
    }
  person->count++;
  if (name != NULL && *name != '\0' && g_strcmp0 (person->name, name) != 0)
    {
      g_free (person->name);
      person->name = g_strdup (name);
      update_folded (person);
    }
  else if (person->folded == NULL)
    update_folded (person);
  g_clear_pointer (&self->ranked, g_ptr_array_unref);
}

/* Each mailbox of an RFC 5322 list as the store keeps it (UTF-8). */
static void
add_list (TernAddressBook *self,
          const char      *text)
{
  InternetAddressList *list;

  if (text == NULL || *text == '\0')
    return;
  list = internet_address_list_parse (NULL, text);
  if (list == NULL)
    return;
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        tern_address_book_add (self, internet_address_get_name (address),
                               internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)));
    }
  g_object_unref (list);
}

static gboolean
load_cb (sqlite3  *db,
         gpointer  user_data,
         GError  **error)
{
  TernAddressBook *self = user_data;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = tern_store_prepare (db, "SELECT from_name, from_address, to_list, cc_list FROM messages",
                             error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      tern_address_book_add (self, (const char *) sqlite3_column_text (stmt, 0),
                             (const char *) sqlite3_column_text (stmt, 1));
      add_list (self, (const char *) sqlite3_column_text (stmt, 2));
      add_list (self, (const char *) sqlite3_column_text (stmt, 3));
    }
  if (rc != SQLITE_DONE)
    return tern_store_set_error (db, error);
  return TRUE;
}

gboolean
tern_address_book_load (TernAddressBook  *self,
                        TernStore        *store,
                        GError          **error)
{
  g_return_val_if_fail (TERN_IS_ADDRESS_BOOK (self), FALSE);
  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);

  _tern_mail_ensure_gmime ();
  g_hash_table_remove_all (self->people);
  g_clear_pointer (&self->ranked, g_ptr_array_unref);
  return tern_store_read (store, load_cb, self, error);
}

static int
compare_people (gconstpointer a,
                gconstpointer b)
{
  const Person *pa = *(const Person *const *) a;
  const Person *pb = *(const Person *const *) b;

  if (pa->count != pb->count)
    return pa->count > pb->count ? -1 : 1;
  return strcmp (pa->folded, pb->folded);
}

/* Whether @folded_prefix starts the address, the name or a word of it. */
static gboolean
matches (const Person *person,
         const char   *folded_prefix)
{
  const char *p = person->folded;

  if (g_str_has_prefix (p, folded_prefix))
    return TRUE;
  for (; *p != '\0'; p = g_utf8_next_char (p))
    if ((*p == ' ' || *p == '.' || *p == '"' || *p == '(')
        && g_str_has_prefix (p + 1, folded_prefix))
      return TRUE;
  return FALSE;
}

/* "Name <address>", quoting the name when it needs it. */
static char *
format_person (const Person *person)
{
  InternetAddress *address;
  char *text;

  if (person->name == NULL)
    return g_strdup (person->address);
  address = internet_address_mailbox_new (person->name, person->address);
  text = internet_address_to_string (address, NULL, FALSE);
  g_object_unref (address);
  return text;
}

GStrv
tern_address_book_complete (TernAddressBook *self,
                            const char      *prefix,
                            guint            limit)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *stripped = g_strstrip (g_strdup (prefix != NULL ? prefix : ""));
  g_autofree char *folded = fold (stripped);
  guint n = 0;

  g_return_val_if_fail (TERN_IS_ADDRESS_BOOK (self), NULL);

  if (*folded != '\0')
    {
      if (self->ranked == NULL)
        {
          GHashTableIter iter;
          gpointer value;

          self->ranked = g_ptr_array_sized_new (g_hash_table_size (self->people));
          g_hash_table_iter_init (&iter, self->people);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            g_ptr_array_add (self->ranked, value);
          g_ptr_array_sort (self->ranked, compare_people);
        }
      for (guint i = 0; i < self->ranked->len && n < limit; i++)
        if (matches (self->ranked->pdata[i], folded))
          {
            g_autofree char *text = format_person (self->ranked->pdata[i]);

            g_strv_builder_add (builder, text);
            n++;
          }
    }
  return g_strv_builder_end (builder);
}

static void
tern_address_book_finalize (GObject *object)
{
  TernAddressBook *self = TERN_ADDRESS_BOOK (object);

  g_clear_pointer (&self->ranked, g_ptr_array_unref);
  g_clear_pointer (&self->people, g_hash_table_unref);

  G_OBJECT_CLASS (tern_address_book_parent_class)->finalize (object);
}

static void
tern_address_book_class_init (TernAddressBookClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_address_book_finalize;
}

static void
tern_address_book_init (TernAddressBook *self)
{
  self->people = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) person_free);
}

TernAddressBook *
tern_address_book_new (void)
{
  return g_object_new (TERN_TYPE_ADDRESS_BOOK, NULL);
}
