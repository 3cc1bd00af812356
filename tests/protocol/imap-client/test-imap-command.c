/* test-imap-command.c: how TernImapCommand writes strings, mailbox names
 * and literals.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-test"

#include "config.h"

#include "tern-imap-command.h"

static char *
build (TernImapCommandFlags  flags,
       const char           *kind,
       const char           *value,
       guint                *segments)
{
  g_autoptr(TernImapCommand) command = tern_imap_command_new ("T1", "TEST", flags);

  tern_imap_command_add (command, "X ");
  if (g_str_equal (kind, "mailbox"))
    tern_imap_command_add_mailbox (command, value);
  else
    tern_imap_command_add_string (command, value);
  tern_imap_command_end (command);
  if (segments != NULL)
    *segments = command->segments->len;
  return tern_imap_command_to_string (command, NULL);
}

static void
test_strings (void)
{
  static const struct {
    TernImapCommandFlags flags;
    const char *kind;
    const char *value;
    const char *expected;
    guint segments;
  } cases[] = {
    { 0, "string", "alice", "T1 X alice\r\n", 1 },
    { 0, "string", "alice@tern.test", "T1 X alice@tern.test\r\n", 1 },
    { 0, "string", "", "T1 X \"\"\r\n", 1 },
    { 0, "string", "nil", "T1 X \"nil\"\r\n", 1 },
    { 0, "string", "two words", "T1 X \"two words\"\r\n", 1 },
    { 0, "string", "q\"u\\o", "T1 X \"q\\\"u\\\\o\"\r\n", 1 },
    { 0, "string", "a]b", "T1 X a]b\r\n", 1 },
    { 0, "string", "пароль", "T1 X {12}\r\nпароль\r\n", 2 },
    { TERN_IMAP_COMMAND_LITERAL_PLUS, "string", "пароль", "T1 X {12+}\r\nпароль\r\n", 1 },
    { TERN_IMAP_COMMAND_LITERAL_MINUS, "string", "a\r\nb", "T1 X {4+}\r\na\r\nb\r\n", 1 },
    { TERN_IMAP_COMMAND_UTF8, "string", "пароль", "T1 X \"пароль\"\r\n", 1 },
    { 0, "mailbox", "inbox", "T1 X INBOX\r\n", 1 },
    { 0, "mailbox", "Проекты/2026", "T1 X &BB8EQAQ+BDUEOgRCBEs-/2026\r\n", 1 },
    { 0, "mailbox", "A & B", "T1 X \"A &- B\"\r\n", 1 },
    { TERN_IMAP_COMMAND_UTF8, "mailbox", "Проекты/2026", "T1 X \"Проекты/2026\"\r\n", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint segments = 0;
      g_autofree char *got = build (cases[i].flags, cases[i].kind, cases[i].value, &segments);

      g_assert_cmpstr (got, ==, cases[i].expected);
      g_assert_cmpuint (segments, ==, cases[i].segments);
    }
}

static void
test_large_literal_minus (void)
{
  g_autoptr(TernImapCommand) command = tern_imap_command_new ("T2", "APPEND",
                                                              TERN_IMAP_COMMAND_LITERAL_MINUS);
  g_autofree char *big = g_strnfill (5000, 'x');
  g_autofree char *text = NULL;

  tern_imap_command_add (command, "APPEND INBOX ");
  tern_imap_command_add_literal (command, big, 5000);
  tern_imap_command_end (command);
  g_assert_cmpuint (command->segments->len, ==, 2);
  text = tern_imap_command_to_string (command, NULL);
  g_assert_true (g_str_has_prefix (text, "T2 APPEND INBOX {5000}\r\nxxx"));

  tern_imap_command_wipe (command);
  g_clear_pointer (&text, g_free);
  text = tern_imap_command_to_string (command, NULL);
  g_assert_cmpuint (text[0], ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tern/imap/command/strings", test_strings);
  g_test_add_func ("/tern/imap/command/large-literal-minus", test_large_literal_minus);

  return g_test_run ();
}
