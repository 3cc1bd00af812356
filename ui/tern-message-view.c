/* tern-message-view.c: the reading pane.
 *
 * Every request for a body carries the view's cancellable, replaced on each
 * new message and cancelled on dispose, so that a late body never lands in
 * the wrong message or in a destroyed view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-view"

#include "config.h"

#include "tern-message-view.h"

#include <glib/gi18n.h>

#include "tern-app-error.h"
#include "tern-attachment-bar.h"
#include "tern-body-fetch.h"
#include "tern-mail-store.h"
#include "tern-message-web-view.h"
#include "tern-plain-text-view.h"

struct _TernMessageView
{
  AdwBin parent_instance;

  /* Template widgets */
  GtkLabel *subject_label;
  GtkLabel *from_name_label;
  GtkLabel *from_address_label;
  GtkLabel *date_label;
  GtkLabel *to_label;
  GtkLabel *cc_label;
  TernAttachmentBar *attachment_bar;
  GtkRevealer *remote_revealer;
  GtkLabel *status_label;
  GtkWidget *header_box;
  GtkWidget *header_separator;
  GtkStack *body_stack;
  GtkSpinner *spinner;
  AdwStatusPage *unavailable_page;
  TernPlainTextView *plain_view;
  TernMessageWebView *web_view;

  /* Owned references */
  TernContext *context;
  GSettings *settings;
  GCancellable *cancellable;
  TernMessageContent *content;
  char *charset;

  gint64 message_id;
  gboolean allow_remote; /* for this message */
  gboolean offline;
};

G_DEFINE_FINAL_TYPE (TernMessageView, tern_message_view, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_CHARSET,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Charsets offered by View → Encoding besides the declared one. */
static const char *const encodings[] = {
  "UTF-8", "windows-1251", "KOI8-R", "KOI8-U", "ISO-8859-5", "windows-1252", "ISO-8859-1",
  "ISO-8859-15", "ISO-8859-2", "Shift_JIS", "EUC-JP", "GB18030", "Big5",
};

/* Attributes, stylesheets and CSS that load something from the network;
 * not links, which only load when clicked (in the browser). */
static const char remote_pattern[] =
  "(?:\\b(?:src|srcset|background|poster|data)\\s*=\\s*[\"']?\\s*(?:https?:)?//)"
  "|(?:<link\\b[^>]*\\bhref\\s*=\\s*[\"']?\\s*(?:https?:)?//)"
  "|(?:url\\(\\s*[\"']?\\s*(?:https?:)?//)|@import";

GMenuModel *
tern_message_view_new_encoding_menu (void)
{
  GMenu *menu = g_menu_new ();

  g_menu_append (menu, _("_Automatic"), "message-view.charset::");
  for (gsize i = 0; i < G_N_ELEMENTS (encodings); i++)
    {
      g_autofree char *action = g_strdup_printf ("message-view.charset::%s", encodings[i]);
      /* Menu labels take "_" for a mnemonic: Shift_JIS would show as
       * "ShiftJIS". */
      g_auto(GStrv) parts = g_strsplit (encodings[i], "_", -1);
      g_autofree char *label = g_strjoinv ("__", parts);

      g_menu_append (menu, label, action);
    }
  return G_MENU_MODEL (menu);
}

static gboolean
has_remote_content (const char *html)
{
  return g_regex_match_simple (remote_pattern, html, G_REGEX_CASELESS, 0);
}

static gboolean
sender_is_trusted (TernMessageView *self,
                   const char      *address)
{
  g_auto(GStrv) trusted = NULL;

  if (address == NULL || address[0] == '\0')
    return FALSE;
  trusted = g_settings_get_strv (self->settings, "trusted-senders");
  for (gsize i = 0; trusted[i] != NULL; i++)
    if (g_ascii_strcasecmp (trusted[i], address) == 0)
      return TRUE;
  return FALSE;
}

static void
set_label (GtkLabel   *label,
           const char *text)
{
  gtk_label_set_text (label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), text != NULL && text[0] != '\0');
}

static void
set_recipients_label (GtkLabel   *label,
                      const char *prefix,
                      const char *list)
{
  g_autofree char *text = list != NULL && list[0] != '\0' ? g_strconcat (prefix, " ", list, NULL) : NULL;

  set_label (label, text);
}

static void
show_headers (TernMessageView *self,
              const char      *subject,
              const char      *from_name,
              const char      *from_address,
              const char      *to,
              const char      *cc,
              gint64           date)
{
  g_autoptr(GDateTime) time = date > 0 ? g_date_time_new_from_unix_local (date) : NULL;
  g_autofree char *date_text = time != NULL ? g_date_time_format (time, "%a, %-d %b %Y, %H:%M") : NULL;

  gtk_label_set_text (self->subject_label,
                      subject != NULL && subject[0] != '\0' ? subject : _("(No subject)"));
  if (from_name != NULL && from_name[0] != '\0')
    {
      set_label (self->from_name_label, from_name);
      set_label (self->from_address_label, from_address);
    }
  else
    {
      set_label (self->from_name_label, from_address);
      set_label (self->from_address_label, NULL);
    }
  set_label (self->date_label, date_text);
  /* TRANSLATORS: before the recipients of a message, "To: Ann <ann@example.org>" */
  set_recipients_label (self->to_label, C_("recipients", "To:"), to);
  /* TRANSLATORS: before the copy recipients of a message */
  set_recipients_label (self->cc_label, C_("recipients", "Cc:"), cc);
}

static void
set_status (TernMessageView *self,
            const char      *status)
{
  set_label (self->status_label, status);
}

static void
show_page (TernMessageView *self,
           const char      *page)
{
  /* With no message there are no headers to show, not empty ones. */
  gboolean message = !g_str_equal (page, "empty");

  gtk_widget_set_visible (self->header_box, message);
  gtk_widget_set_visible (self->header_separator, message);
  gtk_stack_set_visible_child_name (self->body_stack, page);
  gtk_spinner_set_spinning (self->spinner, g_str_equal (page, "loading"));
}

/* A hidden revealer still asks for its child's width: the banner's two
 * buttons would make the reading pane too wide for three panes. */
static void
show_remote_banner (TernMessageView *self,
                    gboolean         show)
{
  gtk_widget_set_visible (GTK_WIDGET (self->remote_revealer), show);
  gtk_revealer_set_reveal_child (self->remote_revealer, show);
}

static void
load_html (TernMessageView *self)
{
  const char *html = tern_message_content_get_html (self->content);
  g_autofree char *policy = g_settings_get_string (self->settings, "remote-content");
  gboolean never = g_str_equal (policy, "never");
  gboolean allow = !never && (self->allow_remote ||
                              sender_is_trusted (self, tern_message_content_get_from_address (self->content)));

  tern_message_web_view_load (self->web_view, self->content, allow);
  /* Only "ask" offers to load it (the preferences' Remote Content). */
  show_remote_banner (self, !allow && g_str_equal (policy, "ask") && has_remote_content (html));
}

static void
show_content (TernMessageView *self)
{
  TernMessageContent *content = self->content;
  const char *address = tern_message_content_get_from_address (content);

  show_headers (self, tern_message_content_get_subject (content),
                tern_message_content_get_from_name (content), address,
                tern_message_content_get_to (content), tern_message_content_get_cc (content),
                tern_message_content_get_date (content));
  tern_attachment_bar_set_content (self->attachment_bar, content);
  set_status (self, tern_message_content_is_broken (content)
                    ? _("Parts of this message are damaged; what could be read is shown.")
                    : NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message-view.trust-sender",
                                 address != NULL && address[0] != '\0');
  if (tern_message_content_get_html (content) != NULL)
    {
      load_html (self);
      show_page (self, "html");
      return;
    }
  show_remote_banner (self, FALSE);
  tern_plain_text_view_set_text (self->plain_view, tern_message_content_get_text (content));
  show_page (self, "plain");
}

/* Whatever the view was reading or parsing is no longer wanted. */
static void
renew_cancellable (TernMessageView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
}

static void
clear (TernMessageView *self)
{
  renew_cancellable (self);
  g_clear_object (&self->content);
  self->message_id = 0;
  self->allow_remote = FALSE;
  self->offline = FALSE;
  show_headers (self, NULL, NULL, NULL, NULL, NULL, 0);
  tern_attachment_bar_set_content (self->attachment_bar, NULL);
  show_remote_banner (self, FALSE);
  set_status (self, NULL);
  tern_message_web_view_clear (self->web_view);
  tern_plain_text_view_set_text (self->plain_view, "");
}

/* Bodies are read from the cache and parsed on a thread: a cached body
 * may be a file of megabytes, a message with big attachments takes a
 * while to parse, and the pane must not freeze meanwhile.  So is the
 * message shown parsed again in the charset of View → Encoding. */
typedef struct
{
  TernContext *context;
  gint64 message_id;
  GBytes *body;                /* NULL: read the cached one */
  TernMessageContent *shown;   /* set: parse its message again */
  char *charset;
} ParseData;

static void
parse_data_free (ParseData *data)
{
  g_clear_object (&data->context);
  g_clear_pointer (&data->body, g_bytes_unref);
  g_clear_object (&data->shown);
  g_free (data->charset);
  g_free (data);
}

static void
parse_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ParseData *data = task_data;
  g_autoptr(GBytes) body = data->body != NULL ? g_bytes_ref (data->body) : NULL;
  GError *error = NULL;

  if (data->shown != NULL)
    {
      g_task_return_pointer (task, tern_message_content_with_charset (data->shown, data->charset),
                             g_object_unref);
      return;
    }
  if (body == NULL)
    body = tern_body_fetch_cached (data->context, data->message_id, &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (body == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Not cached");
      return;
    }
  g_task_return_pointer (task, tern_message_content_new (body, data->charset), g_object_unref);
}

static void body_fetched_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data);

static void
show_unavailable (TernMessageView *self,
                  const char      *reason)
{
  adw_status_page_set_title (self->unavailable_page, _("Cannot Show the Message"));
  adw_status_page_set_description (self->unavailable_page, reason);
  set_status (self, NULL);
  show_page (self, "unavailable");
}

static void
parsed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMessageContent) content = g_task_propagate_pointer (G_TASK (result), &error);

  /* Not cached: from the server, then parsed here again. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      tern_body_fetch_async (self->context, self->message_id, self->cancellable,
                             body_fetched_cb, g_object_ref (self));
      return;
    }
  if (content == NULL)
    {
      /* Not when cancelled: another message was chosen meanwhile. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_unavailable (self, error->message);
      return;
    }
  g_set_object (&self->content, content);
  show_content (self);
}

/* Shows @body, or the message's cached body when @body is NULL (or
 * fetches it when none is cached); or, with @shown, that content's
 * message in the view's charset. */
static void
parse_body (TernMessageView    *self,
            GBytes             *body,
            TernMessageContent *shown)
{
  g_autoptr(GTask) task = g_task_new (self, self->cancellable, parsed_cb, NULL);
  ParseData *data = g_new0 (ParseData, 1);

  data->context = self->context != NULL ? g_object_ref (self->context) : NULL;
  data->message_id = self->message_id;
  data->body = body != NULL ? g_bytes_ref (body) : NULL;
  data->shown = shown != NULL ? g_object_ref (shown) : NULL;
  data->charset = g_strdup (self->charset);
  g_task_set_source_tag (task, parse_body);
  g_task_set_task_data (task, data, (GDestroyNotify) parse_data_free);
  g_task_run_in_thread (task, parse_thread);
}

static void
body_fetched_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TernMessageView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = tern_body_fetch_finish (TERN_CONTEXT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (body != NULL)
    {
      parse_body (self, body, NULL);
      return;
    }
  self->offline = tern_worker_error_is_network (error);
  if (!self->offline)
    {
      show_unavailable (self, error->message);
      return;
    }
  adw_status_page_set_title (self->unavailable_page, _("Message Not Downloaded"));
  adw_status_page_set_description (self->unavailable_page,
                                   _("You are offline. This message will be shown once Tern "
                                     "can reach the server."));
  set_status (self, _("Offline: showing what is stored on this computer."));
  show_page (self, "unavailable");
}

void
tern_message_view_set_message (TernMessageView *self,
                               gint64           message_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TernMailMessage) row = NULL;

  g_return_if_fail (TERN_IS_MESSAGE_VIEW (self));
  g_return_if_fail (message_id == 0 || self->context != NULL);

  /* View → Encoding is for the message it was chosen for: the next one is
   * read in its own charset. */
  if (message_id != self->message_id && self->charset != NULL)
    {
      g_clear_pointer (&self->charset, g_free);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHARSET]);
    }
  clear (self);
  if (message_id == 0)
    {
      show_page (self, "empty");
      return;
    }
  self->message_id = message_id;
  row = tern_mail_store_get_message (tern_context_get_store (self->context), message_id, &error);
  if (row == NULL)
    {
      show_unavailable (self, error->message);
      return;
    }
  /* The headers are in the store: they show at once, body or not. */
  show_headers (self, row->subject, row->from_name, row->from_address, row->to_list, row->cc_list,
                row->date);
  show_page (self, "loading");
  parse_body (self, NULL, NULL);
}

gint64
tern_message_view_get_message (TernMessageView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_VIEW (self), 0);
  return self->message_id;
}

void
tern_message_view_set_content (TernMessageView    *self,
                               TernMessageContent *content)
{
  g_return_if_fail (TERN_IS_MESSAGE_VIEW (self));
  g_return_if_fail (content == NULL || TERN_IS_MESSAGE_CONTENT (content));

  clear (self);
  if (content == NULL)
    {
      show_page (self, "empty");
      return;
    }
  self->content = self->charset != NULL ? tern_message_content_with_charset (content, self->charset)
                                        : g_object_ref (content);
  show_content (self);
}

TernMessageContent *
tern_message_view_get_content (TernMessageView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_VIEW (self), NULL);
  return self->content;
}

void
tern_message_view_set_charset (TernMessageView *self,
                               const char      *charset)
{
  g_return_if_fail (TERN_IS_MESSAGE_VIEW (self));

  if (charset != NULL && charset[0] == '\0')
    charset = NULL;
  if (g_strcmp0 (charset, self->charset) == 0)
    return;
  g_free (self->charset);
  self->charset = g_strdup (charset);
  /* The message stays as it is shown until it is parsed again (a parse
   * for the charset chosen before is dropped). */
  if (self->content != NULL)
    {
      renew_cancellable (self);
      parse_body (self, NULL, self->content);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHARSET]);
}

const char *
tern_message_view_get_charset (TernMessageView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_VIEW (self), NULL);
  return self->charset;
}

gboolean
tern_message_view_is_offline (TernMessageView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_VIEW (self), FALSE);
  return self->offline;
}

static void
show_remote_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (widget);

  if (self->content == NULL || tern_message_content_get_html (self->content) == NULL)
    return;
  self->allow_remote = TRUE;
  load_html (self);
}

static void
trust_sender_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (widget);
  const char *address = self->content ? tern_message_content_get_from_address (self->content) : NULL;
  g_auto(GStrv) trusted = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  if (address == NULL || address[0] == '\0')
    return;
  if (!sender_is_trusted (self, address))
    {
      trusted = g_settings_get_strv (self->settings, "trusted-senders");
      g_strv_builder_addv (builder, (const char **) trusted);
      g_strv_builder_add (builder, address);
      updated = g_strv_builder_end (builder);
      g_settings_set_strv (self->settings, "trusted-senders", (const char * const *) updated);
    }
  show_remote_action (widget, action_name, parameter);
}

static void
tern_message_view_dispose (GObject *object)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->content);
  g_clear_object (&self->context);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->charset, g_free);

  G_OBJECT_CLASS (tern_message_view_parent_class)->dispose (object);
}

static void
tern_message_view_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      g_value_set_object (value, self->context);
      break;
    case PROP_CHARSET:
      g_value_set_string (value, self->charset != NULL ? self->charset : "");
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_message_view_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  TernMessageView *self = TERN_MESSAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_CONTEXT:
      self->context = g_value_dup_object (value);
      break;
    case PROP_CHARSET:
      tern_message_view_set_charset (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_message_view_class_init (TernMessageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_message_view_dispose;
  object_class->get_property = tern_message_view_get_property;
  object_class->set_property = tern_message_view_set_property;

  properties[PROP_CONTEXT] =
    g_param_spec_object ("context", NULL, NULL, TERN_TYPE_CONTEXT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /* "" is the declared charset; a string so that a property action with a
   * string state can drive it. */
  properties[PROP_CHARSET] =
    g_param_spec_string ("charset", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TERN_TYPE_ATTACHMENT_BAR);
  g_type_ensure (TERN_TYPE_MESSAGE_WEB_VIEW);
  g_type_ensure (TERN_TYPE_PLAIN_TEXT_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/ternmail/Tern/tern-message-view.ui");
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, header_box);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, header_separator);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, subject_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, from_name_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, from_address_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, date_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, to_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, cc_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, attachment_bar);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, remote_revealer);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, status_label);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, body_stack);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, spinner);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, unavailable_page);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, plain_view);
  gtk_widget_class_bind_template_child (widget_class, TernMessageView, web_view);

  gtk_widget_class_install_action (widget_class, "message-view.show-remote", NULL, show_remote_action);
  gtk_widget_class_install_action (widget_class, "message-view.trust-sender", NULL, trust_sender_action);
  gtk_widget_class_install_property_action (widget_class, "message-view.charset", "charset");
}

static void
tern_message_view_init (TernMessageView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->settings = g_settings_new (APPLICATION_ID);
  self->cancellable = g_cancellable_new ();
  show_page (self, "empty");
}

GtkWidget *
tern_message_view_new (TernContext *context)
{
  return g_object_new (TERN_TYPE_MESSAGE_VIEW, "context", context, NULL);
}
