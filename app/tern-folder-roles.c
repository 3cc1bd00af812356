/* tern-folder-roles.c: folder roles from SPECIAL-USE or from names.
 *
 * Servers without SPECIAL-USE (and Gmail's localized labels before it had
 * them) name their folders in the user's language; a small table of the
 * names real servers create covers most accounts.  Names compare
 * case-insensitively after Unicode normalisation.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-folder-roles"

#include "config.h"

#include "tern-folder-roles.h"

#include <string.h>

typedef struct
{
  const char *name;
  const char *role;
} NameRole;

/* Lower-case, NFC. */
static const NameRole name_roles[] = {
  { "входящие", "inbox" },
  { "posteingang", "inbox" },
  { "drafts", "drafts" },
  { "draft", "drafts" },
  { "черновики", "drafts" },
  { "entwürfe", "drafts" },
  { "brouillons", "drafts" },
  { "borradores", "drafts" },
  { "sent", "sent" },
  { "sent items", "sent" },
  { "sent mail", "sent" },
  { "sent messages", "sent" },
  { "отправленные", "sent" },
  { "gesendet", "sent" },
  { "gesendete objekte", "sent" },
  { "envoyés", "sent" },
  { "enviados", "sent" },
  { "trash", "trash" },
  { "deleted items", "trash" },
  { "deleted messages", "trash" },
  { "bin", "trash" },
  { "корзина", "trash" },
  { "удалённые", "trash" },
  { "удаленные", "trash" },
  { "papierkorb", "trash" },
  { "gelöschte objekte", "trash" },
  { "corbeille", "trash" },
  { "papelera", "trash" },
  { "junk", "junk" },
  { "junk e-mail", "junk" },
  { "junk email", "junk" },
  { "spam", "junk" },
  { "спам", "junk" },
  { "нежелательная почта", "junk" },
  { "archive", "archive" },
  { "archives", "archive" },
  { "архив", "archive" },
  { "archiv", "archive" },
  { "all mail", "all" },
  { "вся почта", "all" },
  { "alle nachrichten", "all" },
  { "starred", "flagged" },
  { "flagged", "flagged" },
  { "помеченные", "flagged" },
};

static const char *
role_from_attributes (TernImapMailboxAttributes attributes)
{
  static const struct
  {
    TernImapMailboxAttributes attribute;
    const char *role;
  } special_use[] = {
    { TERN_IMAP_MAILBOX_DRAFTS, "drafts" },
    { TERN_IMAP_MAILBOX_SENT, "sent" },
    { TERN_IMAP_MAILBOX_TRASH, "trash" },
    { TERN_IMAP_MAILBOX_JUNK, "junk" },
    { TERN_IMAP_MAILBOX_ARCHIVE, "archive" },
    { TERN_IMAP_MAILBOX_ALL, "all" },
    { TERN_IMAP_MAILBOX_FLAGGED, "flagged" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (special_use); i++)
    if (attributes & special_use[i].attribute)
      return special_use[i].role;
  return NULL;
}

/* The part of @name a role can be guessed from: the whole name for a
 * top-level folder, the last part below INBOX or [Gmail] / [Google Mail]
 * (where servers put their standard folders), NULL for anything deeper. */
static const char *
leaf_for_guess (const char *name,
                char        delimiter)
{
  const char *sep;
  gsize parent_len;

  if (delimiter == '\0' || (sep = strchr (name, delimiter)) == NULL)
    return name;
  if (strchr (sep + 1, delimiter) != NULL)
    return NULL;
  parent_len = sep - name;
  if ((parent_len == 5 && g_ascii_strncasecmp (name, "INBOX", 5) == 0) ||
      (parent_len == 7 && strncmp (name, "[Gmail]", 7) == 0) ||
      (parent_len == 13 && strncmp (name, "[Google Mail]", 13) == 0))
    return sep + 1;
  return NULL;
}

const char *
tern_folder_role_guess (const char                *name,
                        char                       delimiter,
                        TernImapMailboxAttributes  attributes)
{
  const char *role;
  const char *leaf;
  g_autofree char *normalized = NULL;
  g_autofree char *folded = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  if (g_ascii_strcasecmp (name, "INBOX") == 0)
    return "inbox";
  if ((role = role_from_attributes (attributes)) != NULL)
    return role;
  if ((leaf = leaf_for_guess (name, delimiter)) == NULL)
    return NULL;

  normalized = g_utf8_normalize (leaf, -1, G_NORMALIZE_NFC);
  if (normalized == NULL)
    return NULL;
  folded = g_utf8_strdown (normalized, -1);
  for (gsize i = 0; i < G_N_ELEMENTS (name_roles); i++)
    if (strcmp (folded, name_roles[i].name) == 0)
      return name_roles[i].role;
  return NULL;
}
