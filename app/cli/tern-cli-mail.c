/* tern-cli-mail.c: tern-cli sync, folders, list and show.
 *
 * Progress goes to standard error, results to standard output; with
 * --json the result is one JSON document.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-cli"

#include "config.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <unistd.h>

#include "tern-app-error.h"
#include "tern-cli.h"
#include "tern-imap-sync.h"
#include "tern-json.h"
#include "tern-mail-store.h"
#include "tern-outbox.h"
#include "tern-pop3-download.h"

#define DEFAULT_LIMIT 50

/* sync */

typedef struct
{
  char *last_folder;
  gboolean tty;
} Progress;

static void
progress_cb (const char *folder,
             guint       done,
             guint       total,
             gpointer    user_data)
{
  Progress *progress = user_data;

  if (total == 0)
    {
      g_free (progress->last_folder);
      progress->last_folder = g_strdup (folder);
      return;
    }
  /* TRANSLATORS: sync progress: folder name, messages done, messages in all. */
  g_printerr (_("%s: %u of %u"), folder, done, total);
  g_printerr (progress->tty && done < total ? "\r" : "\n");
}

static void
append_stats_json (GString                 *out,
                   TernAccount             *account,
                   const TernImapSyncStats *stats)
{
  g_string_append_printf (out, "{\"account\":%" G_GINT64_FORMAT ",", tern_account_get_id (account));
  tern_json_append_key (out, "email");
  tern_json_append_string (out, tern_account_get_address (account));
  g_string_append_printf (out,
                          ",\"folders\":%u,\"new\":%u,\"removed\":%u,\"flag_updates\":%u,"
                          "\"bodies\":%u,\"uidvalidity_resets\":%u,\"seconds\":%.3f}",
                          stats->folders, stats->new_messages, stats->removed_messages,
                          stats->flag_updates, stats->bodies, stats->uidvalidity_resets,
                          stats->seconds);
}

static void
pop3_progress_cb (guint    done,
                  guint    total,
                  gpointer user_data)
{
  progress_cb ("Inbox", done, total, user_data);
}

/* A POP3 account of tern-cli sync: downloaded, counts to @out. */
static gboolean
sync_pop3 (TernContext *tern,
           TernAccount *account,
           Progress    *progress,
           gboolean     json,
           GString     *out)
{
  TernPop3DownloadStats stats = { 0 };
  g_autoptr(GError) error = NULL;

  if (!tern_pop3_download_account (tern, account, pop3_progress_cb, progress, &stats, NULL, &error))
    {
      g_printerr ("tern-cli: %s: %s\n", tern_account_get_address (account), error->message);
      return FALSE;
    }
  if (json)
    {
      if (out->len > 1)
        g_string_append_c (out, ',');
      g_string_append_printf (out, "{\"account\":%" G_GINT64_FORMAT ",", tern_account_get_id (account));
      tern_json_append_key (out, "email");
      tern_json_append_string (out, tern_account_get_address (account));
      g_string_append_printf (out,
                              ",\"protocol\":\"pop3\",\"on_server\":%u,\"new\":%u,"
                              "\"bytes\":%" G_GUINT64_FORMAT ",\"deleted\":%u,\"seconds\":%.3f}",
                              stats.on_server, stats.new_messages, stats.bytes, stats.deleted,
                              stats.seconds);
    }
  else
    /* TRANSLATORS: the summary of a POP3 download: address, messages on the server, new, deleted on the server, seconds. */
    g_string_append_printf (out, _("%s: %u on the server, %u new, %u deleted on the server in %.2f s\n"),
                            tern_account_get_address (account), stats.on_server,
                            stats.new_messages, stats.deleted, stats.seconds);
  return TRUE;
}

/* After an account's sync: sends what its outbox holds and is due, and
 * adds the outcome to the account's entry in @out (the last one). */
static gboolean
flush_outbox (TernContext *tern,
              TernAccount *account,
              gboolean     json,
              GString     *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint n_sent = 0;
  guint waiting = 0;
  gboolean ok;

  if (tern_account_get_outgoing (account) == NULL)
    return TRUE;
  ok = tern_outbox_flush (tern, account, &n_sent, NULL, &error);
  if (!ok)
    g_printerr (_("tern-cli: %s: the outbox was not sent: %s\n"),
                tern_account_get_address (account), error->message);
  rows = tern_outbox_list (tern_context_get_store (tern), tern_account_get_id (account), NULL);
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    waiting += ((TernOutboxEntry *) g_ptr_array_index (rows, i))->state != TERN_OUTBOX_STATE_SENT;
  if (json && out->len > 1 && out->str[out->len - 1] == '}')
    {
      /* Into the account's object. */
      g_string_truncate (out, out->len - 1);
      g_string_append_printf (out, ",\"outbox_sent\":%u,\"outbox_waiting\":%u}", n_sent, waiting);
    }
  else if (!json && (n_sent > 0 || waiting > 0))
    /* TRANSLATORS: after a sync: address, messages sent from the outbox, messages still in it (queued or failed). */
    g_string_append_printf (out, _("%s: outbox: %u sent, %u waiting\n"),
                            tern_account_get_address (account), n_sent, waiting);
  return ok;
}

int
tern_cli_sync (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  g_autofree char *account_key = NULL;
  g_autofree char *bodies_name = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("Sync only this account (id, UUID or address)"), N_("ACCOUNT") },
    { "bodies", 0, 0, G_OPTION_ARG_STRING, &bodies_name, N_("Download bodies: none, window (last 30 days; the default) or all"), N_("WHICH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— fetch new mail and changes from the server"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) out = g_string_new (NULL);
  /* As the issue has it: recent bodies are there to read offline. */
  TernImapSyncBodies bodies = TERN_IMAP_SYNC_BODIES_WINDOW;
  Progress progress = { NULL, isatty (STDERR_FILENO) };
  GListModel *model;
  gboolean ok = TRUE;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));
  if (bodies_name != NULL && !tern_imap_sync_bodies_from_string (bodies_name, &bodies))
    return tern_cli_usage_error (context, _("--bodies takes none, window or all"));
  if (json)
    g_string_append_c (out, '[');

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  if (account_key != NULL)
    {
      TernAccount *account = tern_cli_pick_imap_account (tern, account_key, &error);

      if (account == NULL)
        return tern_cli_fail (g_steal_pointer (&error));
      g_ptr_array_add (accounts, account);
    }
  else
    {
      model = G_LIST_MODEL (tern_context_get_accounts (tern));
      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(TernAccount) account = g_list_model_get_item (model, i);

          g_ptr_array_add (accounts, g_steal_pointer (&account));
        }
    }

  for (guint i = 0; i < accounts->len; i++)
    {
      TernAccount *account = g_ptr_array_index (accounts, i);
      TernImapSyncStats stats = { 0 };
      g_autoptr(GError) local_error = NULL;

      if (tern_account_get_protocol (account) == TERN_ACCOUNT_PROTOCOL_POP3)
        {
          if (!sync_pop3 (tern, account, &progress, json, out))
            ok = FALSE;
          else if (!flush_outbox (tern, account, json, out))
            ok = FALSE;
          continue;
        }
      if (!tern_imap_sync_account (tern, account, bodies, progress_cb, &progress, &stats, NULL,
                                   &local_error))
        {
          g_printerr ("tern-cli: %s: %s\n", tern_account_get_address (account), local_error->message);
          ok = FALSE;
          continue;
        }
      if (json)
        {
          if (out->len > 1)
            g_string_append_c (out, ',');
          append_stats_json (out, account, &stats);
        }
      else
        /* TRANSLATORS: the summary of a sync: address, folders, new, removed, changed, seconds. */
        g_string_append_printf (out, _("%s: %u folders, %u new, %u removed, %u flag changes, %u bodies in %.2f s\n"),
                                tern_account_get_address (account), stats.folders,
                                stats.new_messages, stats.removed_messages, stats.flag_updates,
                                stats.bodies, stats.seconds);
      if (!flush_outbox (tern, account, json, out))
        ok = FALSE;
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  g_free (progress.last_folder);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* folders */

/* Appends @text and spaces up to @width characters (not bytes). */
static void
append_padded (GString    *out,
               const char *text,
               guint       width)
{
  glong len = g_utf8_strlen (text, -1);

  g_string_append (out, text);
  for (glong i = len; i < (glong) width; i++)
    g_string_append_c (out, ' ');
}

int
tern_cli_folders (GlobalOptions *globals,
                 int            argc,
                 char         **argv)
{
  g_autofree char *account_key = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— list the folders of an account"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      (account = tern_cli_pick_imap_account (tern, account_key, &error)) == NULL ||
      (folders = tern_mail_store_list_folders (tern_context_get_store (tern),
                                               tern_account_get_id (account), &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  if (json)
    g_string_append_c (out, '[');
  for (guint i = 0; i < folders->len; i++)
    {
      const TernMailFolder *folder = g_ptr_array_index (folders, i);
      char delimiter[2] = { folder->delimiter, '\0' };

      if (!json)
        {
          append_padded (out, folder->name, 30);
          g_string_append_printf (out, " %-8s %7u %7u\n", folder->role ? folder->role : "-",
                                  folder->total_count, folder->unread_count);
          continue;
        }
      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",", folder->id);
      tern_json_append_key (out, "name");
      tern_json_append_string (out, folder->name);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "delimiter");
      tern_json_append_string (out, folder->delimiter ? delimiter : NULL);
      g_string_append_c (out, ',');
      tern_json_append_key (out, "role");
      tern_json_append_string (out, folder->role);
      g_string_append_printf (out,
                              ",\"subscribed\":%s,\"selectable\":%s,\"total\":%u,\"unread\":%u,"
                              "\"uidvalidity\":%u,\"uidnext\":%u,\"highestmodseq\":%" G_GUINT64_FORMAT "}",
                              folder->subscribed ? "true" : "false",
                              (folder->attributes & TERN_IMAP_MAILBOX_NOSELECT) ? "false" : "true",
                              folder->total_count, folder->unread_count, folder->uidvalidity,
                              folder->uidnext, folder->highestmodseq);
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return EXIT_SUCCESS;
}

/* list */

static void
append_flags_json (GString       *out,
                   TernImapFlags  flags,
                   const char    *keywords)
{
  static const struct
  {
    TernImapFlags flag;
    const char *name;
  } names[] = {
    { TERN_IMAP_FLAG_SEEN, "\\Seen" },
    { TERN_IMAP_FLAG_ANSWERED, "\\Answered" },
    { TERN_IMAP_FLAG_FLAGGED, "\\Flagged" },
    { TERN_IMAP_FLAG_DELETED, "\\Deleted" },
    { TERN_IMAP_FLAG_DRAFT, "\\Draft" },
    { TERN_IMAP_FLAG_FORWARDED, "$Forwarded" },
    { TERN_IMAP_FLAG_JUNK, "$Junk" },
  };
  gboolean first = TRUE;
  g_auto(GStrv) words = g_strsplit (keywords ? keywords : "", " ", -1);

  g_string_append_c (out, '[');
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (!(flags & names[i].flag))
        continue;
      if (!first)
        g_string_append_c (out, ',');
      tern_json_append_string (out, names[i].name);
      first = FALSE;
    }
  for (gsize i = 0; words[i] != NULL; i++)
    {
      if (words[i][0] == '\0')
        continue;
      if (!first)
        g_string_append_c (out, ',');
      tern_json_append_string (out, words[i]);
      first = FALSE;
    }
  g_string_append_c (out, ']');
}

static char *
format_date (gint64 seconds)
{
  g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc (seconds);

  return date ? g_date_time_format (date, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

static void
append_message_json (GString               *out,
                     const TernMailMessage *message)
{
  g_autofree char *date = format_date (message->date);

  g_string_append_printf (out, "{\"id\":%" G_GINT64_FORMAT ",\"uid\":%u,", message->id,
                          message->uid);
  tern_json_append_key (out, "date");
  tern_json_append_string (out, date);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "from");
  tern_json_append_string (out, message->from_name ? message->from_name : message->from_address);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "from_address");
  tern_json_append_string (out, message->from_address);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "subject");
  tern_json_append_string (out, message->subject);
  g_string_append_c (out, ',');
  tern_json_append_key (out, "flags");
  append_flags_json (out, message->flags, message->keywords);
  g_string_append_printf (out, ",\"size\":%" G_GUINT64_FORMAT ",\"thread\":%" G_GINT64_FORMAT "}",
                          message->size, message->thread_id);
}

int
tern_cli_list (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  g_autofree char *account_key = NULL;
  g_autofree char *folder_name = NULL;
  int limit = DEFAULT_LIMIT;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "account", 0, 0, G_OPTION_ARG_STRING, &account_key, N_("The account (id, UUID or address)"), N_("ACCOUNT") },
    { "folder", 0, 0, G_OPTION_ARG_STRING, &folder_name, N_("The folder (default: INBOX)"), N_("NAME") },
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show the newest N messages (0: all; default 50)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the result as JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— list the messages of a folder, newest first"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernAccount) account = NULL;
  g_autoptr(TernMailFolder) folder = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  TernStore *store;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 1)
    return tern_cli_usage_error (context, _("Unexpected arguments"));
  if (limit < 0)
    return tern_cli_usage_error (context, _("--limit must not be negative"));
  if (json)
    g_string_append_c (out, '[');

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL || (account = tern_cli_pick_imap_account (tern, account_key, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  store = tern_context_get_store (tern);
  folder = tern_mail_store_find_folder (store, tern_account_get_id (account),
                                        folder_name ? folder_name : "INBOX", &error);
  if (folder == NULL ||
      (messages = tern_mail_store_list_messages (store, folder->id, limit, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  for (guint i = 0; i < messages->len; i++)
    {
      const TernMailMessage *message = g_ptr_array_index (messages, i);
      g_autofree char *date = NULL;
      g_autofree char *from = NULL;
      const char *sender;

      if (json)
        {
          if (i > 0)
            g_string_append_c (out, ',');
          append_message_json (out, message);
          continue;
        }
      date = format_date (message->date);
      sender = message->from_name ? message->from_name
                                  : (message->from_address ? message->from_address : "");
      /* g_utf8_substring() must not run past the end. */
      from = g_utf8_substring (sender, 0, MIN (g_utf8_strlen (sender, -1), 24));
      g_string_append_printf (out, "%-7" G_GINT64_FORMAT " %-6u %s %c ", message->id, message->uid,
                              date, (message->flags & TERN_IMAP_FLAG_SEEN) ? ' ' : 'N');
      append_padded (out, from, 24);
      g_string_append_printf (out, " %s\n", message->subject ? message->subject : "");
    }
  if (json)
    g_string_append (out, "]\n");
  fputs (out->str, stdout);
  return EXIT_SUCCESS;
}

/* show */

/* Crude HTML to text: drops tags, scripts and styles, decodes the common
 * entities, turns block ends into line breaks. */
static char *
html_to_text (const char *html)
{
  GString *out = g_string_new (NULL);
  const char *p = html;

  while (*p != '\0')
    {
      if (*p == '<')
        {
          const char *end = strchr (p, '>');
          gboolean skip_block = g_ascii_strncasecmp (p, "<script", 7) == 0 ||
                                g_ascii_strncasecmp (p, "<style", 6) == 0;

          if (end == NULL)
            break;
          if (g_ascii_strncasecmp (p, "<br", 3) == 0 || g_ascii_strncasecmp (p, "</p", 3) == 0 ||
              g_ascii_strncasecmp (p, "</div", 5) == 0 || g_ascii_strncasecmp (p, "</tr", 4) == 0 ||
              g_ascii_strncasecmp (p, "</h", 3) == 0 || g_ascii_strncasecmp (p, "<li", 3) == 0)
            g_string_append_c (out, '\n');
          if (skip_block)
            {
              const char *close = strstr (end, "</");

              end = close ? strchr (close, '>') : NULL;
              if (end == NULL)
                break;
            }
          p = end + 1;
          continue;
        }
      if (*p == '&')
        {
          static const struct { const char *entity; const char *text; } entities[] = {
            { "&nbsp;", " " }, { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
            { "&quot;", "\"" }, { "&#39;", "'" }, { "&apos;", "'" },
          };
          gboolean done = FALSE;

          for (gsize i = 0; i < G_N_ELEMENTS (entities) && !done; i++)
            {
              if (g_str_has_prefix (p, entities[i].entity))
                {
                  g_string_append (out, entities[i].text);
                  p += strlen (entities[i].entity);
                  done = TRUE;
                }
            }
          if (done)
            continue;
        }
      if (*p == '\r')
        {
          p++;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  char *plain;
  char *html;
} FindText;

static void
find_text_cb (GMimeObject *parent,
              GMimeObject *part,
              gpointer     user_data)
{
  FindText *find = user_data;
  GMimeContentType *type = g_mime_object_get_content_type (part);
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (part);

  if (!GMIME_IS_TEXT_PART (part) ||
      (disposition != NULL && g_mime_content_disposition_is_attachment (disposition)))
    return;
  if (find->plain == NULL && g_mime_content_type_is_type (type, "text", "plain"))
    find->plain = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
  else if (find->html == NULL && g_mime_content_type_is_type (type, "text", "html"))
    find->html = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
}

static char *
message_text (GBytes  *raw,
              GError **error)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  FindText find = { NULL, NULL };

  stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (message == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_FAILED,
                           _("The message cannot be parsed"));
      return NULL;
    }
  g_mime_message_foreach (message, find_text_cb, &find);
  g_object_unref (message);
  if (find.plain != NULL)
    {
      g_free (find.html);
      return find.plain;
    }
  if (find.html != NULL)
    {
      char *text = html_to_text (find.html);

      g_free (find.html);
      return text;
    }
  return g_strdup ("");
}

int
tern_cli_show (GlobalOptions *globals,
              int            argc,
              char         **argv)
{
  gboolean raw = FALSE;
  gboolean text = FALSE;
  const GOptionEntry entries[] = {
    { "raw", 0, 0, G_OPTION_ARG_NONE, &raw, N_("Print the message as the server has it (RFC 5322)"), NULL },
    { "text", 0, 0, G_OPTION_ARG_NONE, &text, N_("Print only the text of the message"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("ID — show a message"));
  g_autoptr(GError) error = NULL;
  g_autoptr(TernContext) tern = NULL;
  g_autoptr(TernMailMessage) message = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *body = NULL;
  guint64 id;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return tern_cli_usage_error (context, error->message);
  if (argc != 2 || !g_ascii_string_to_unsigned (argv[1], 10, 1, G_MAXINT64, &id, NULL))
    return tern_cli_usage_error (context, _("Give the id of one message (see “tern-cli list”)"));
  if (raw && text)
    return tern_cli_usage_error (context, _("Give at most one of --raw and --text"));

  tern = tern_cli_open_context (globals, &error);
  if (tern == NULL ||
      (message = tern_mail_store_get_message (tern_context_get_store (tern), id, &error)) == NULL ||
      (bytes = tern_imap_sync_fetch_body (tern, id, NULL, &error)) == NULL)
    return tern_cli_fail (g_steal_pointer (&error));

  if (raw)
    {
      fwrite (g_bytes_get_data (bytes, NULL), 1, g_bytes_get_size (bytes), stdout);
      return EXIT_SUCCESS;
    }

  g_mime_init ();
  body = message_text (bytes, &error);
  if (body == NULL)
    return tern_cli_fail (g_steal_pointer (&error));
  if (!text)
    {
      g_autofree char *date = format_date (message->date);

      g_print (_("From: %s <%s>\n"), message->from_name ? message->from_name : "",
               message->from_address ? message->from_address : "");
      g_print (_("To: %s\n"), message->to_list ? message->to_list : "");
      if (message->cc_list != NULL)
        g_print (_("Cc: %s\n"), message->cc_list);
      g_print (_("Date: %s\n"), date);
      g_print (_("Subject: %s\n\n"), message->subject ? message->subject : "");
    }
  fputs (body, stdout);
  if (body[0] != '\0' && !g_str_has_suffix (body, "\n"))
    fputc ('\n', stdout);
  g_mime_shutdown ();
  return EXIT_SUCCESS;
}
