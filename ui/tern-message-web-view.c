/* tern-message-web-view.c: WebKit for one HTML mail at a time.
 *
 * All message views share one WebKitWebContext (a web process is costly)
 * with the cid: scheme registered once; a request finds its message
 * through the WebKitWebView that made it.  They share an ephemeral network
 * session too: nothing a mail loads leaves cookies or cache behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-message-web-view"

#include "config.h"

#include "tern-message-web-view.h"

#include <webkit/webkit.h>

#include "tern-html-filter.h"
#include "tern-plain-text-view.h"

/* Every network scheme WebKit could fetch from (content blockers know no
 * alternation); the main document is about:blank and the parts are cid:,
 * which stay allowed. */
static const char blocker_rules[] =
  "["
  "{\"trigger\": {\"url-filter\": \"^https?://\"}, \"action\": {\"type\": \"block\"}},"
  "{\"trigger\": {\"url-filter\": \"^wss?://\"}, \"action\": {\"type\": \"block\"}},"
  "{\"trigger\": {\"url-filter\": \"^ftp://\"}, \"action\": {\"type\": \"block\"}}"
  "]";
#define BLOCKER_ID "tern-block-remote"

struct _TernMessageWebView
{
  AdwBin parent_instance;

  /* Child widgets */
  WebKitWebView *web_view;
  GtkLabel *hover_label;

  /* Owned references */
  TernMessageContent *content;
  char *hover_uri;

  gboolean allow_remote;
  gboolean load_pending; /* waiting for the content blocker */
};

G_DEFINE_FINAL_TYPE (TernMessageWebView, tern_message_web_view, ADW_TYPE_BIN)

enum {
  SIGNAL_PART_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The compiled content blocker, shared; views that want to load before it
 * is ready wait in blocker_waiting (weak pointers). */
static WebKitUserContentFilter *blocker;
static gboolean blocker_failed;
static GPtrArray *blocker_waiting;

static void load_now (TernMessageWebView *self);

static void
cid_request_cb (WebKitURISchemeRequest *request,
                gpointer                user_data)
{
  WebKitWebView *web_view = webkit_uri_scheme_request_get_web_view (request);
  TernMessageWebView *self = web_view ? g_object_get_data (G_OBJECT (web_view), "tern-message-web-view") : NULL;
  const char *uri = webkit_uri_scheme_request_get_uri (request);
  g_autofree char *content_id = g_uri_unescape_string (uri + strlen ("cid:"), NULL);
  const TernMessageAttachment *part = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = NULL;

  if (self != NULL)
    g_signal_emit (self, signals[SIGNAL_PART_REQUESTED], 0, uri);
  if (self != NULL && self->content != NULL && content_id != NULL)
    part = tern_message_content_lookup_cid (self->content, content_id);
  if (part == NULL)
    {
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "No part %s in this message", uri);
      webkit_uri_scheme_request_finish_error (request, error);
      return;
    }
  stream = g_memory_input_stream_new_from_bytes (part->data);
  webkit_uri_scheme_request_finish (request, stream, g_bytes_get_size (part->data), part->content_type);
}

static WebKitWebContext *
shared_web_context (void)
{
  static WebKitWebContext *context;

  if (context == NULL)
    {
      context = webkit_web_context_new ();
      webkit_web_context_set_cache_model (context, WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
      webkit_web_context_register_uri_scheme (context, "cid", cid_request_cb, NULL, NULL);
    }
  return context;
}

static WebKitNetworkSession *
shared_network_session (void)
{
  static WebKitNetworkSession *session;

  if (session == NULL)
    session = webkit_network_session_new_ephemeral ();
  return session;
}

static WebKitSettings *
locked_down_settings (void)
{
  WebKitSettings *settings = webkit_settings_new ();

  webkit_settings_set_enable_javascript (settings, FALSE);
  webkit_settings_set_enable_javascript_markup (settings, FALSE);
  webkit_settings_set_javascript_can_open_windows_automatically (settings, FALSE);
  webkit_settings_set_enable_page_cache (settings, FALSE);
  webkit_settings_set_enable_webgl (settings, FALSE);
  webkit_settings_set_enable_webaudio (settings, FALSE);
  webkit_settings_set_enable_media (settings, FALSE);
  webkit_settings_set_enable_mediasource (settings, FALSE);
  webkit_settings_set_enable_encrypted_media (settings, FALSE);
  webkit_settings_set_enable_media_stream (settings, FALSE);
  webkit_settings_set_enable_webrtc (settings, FALSE);
  webkit_settings_set_media_playback_requires_user_gesture (settings, TRUE);
  webkit_settings_set_enable_html5_local_storage (settings, FALSE);
  webkit_settings_set_enable_html5_database (settings, FALSE);
  webkit_settings_set_enable_fullscreen (settings, FALSE);
  webkit_settings_set_allow_modal_dialogs (settings, FALSE);
  webkit_settings_set_enable_developer_extras (settings, FALSE);
  webkit_settings_set_enable_back_forward_navigation_gestures (settings, FALSE);
  /* Hyperlink auditing (<a ping>) and DNS prefetching have no switch any
   * more: the policy's connect-src 'none' refuses pings, and links are
   * never followed inside the view. */
  return settings;
}

static void
blocker_saved_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&blocker_waiting);

  blocker = webkit_user_content_filter_store_save_finish (WEBKIT_USER_CONTENT_FILTER_STORE (source),
                                                          result, &error);
  /* The policy still refuses remote content without the blocker; what
   * the blocker adds is a second lock. */
  if (blocker == NULL)
    {
      blocker_failed = TRUE;
      g_message ("Remote content blocker unavailable: %s", error->message);
    }
  for (guint i = 0; i < waiting->len; i++)
    {
      GWeakRef *ref = g_ptr_array_index (waiting, i);
      g_autoptr(TernMessageWebView) self = g_weak_ref_get (ref);

      if (self != NULL && self->load_pending)
        load_now (self);
    }
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

/* Whether the blocker is ready (or will never be); if not, @self loads
 * when it is. */
static gboolean
blocker_ready (TernMessageWebView *self)
{
  GWeakRef *ref;

  if (blocker != NULL || blocker_failed)
    return TRUE;
  if (blocker_waiting == NULL)
    {
      g_autofree char *path = g_build_filename (g_get_user_cache_dir (), "tern", "content-filters", NULL);
      g_autoptr(WebKitUserContentFilterStore) store = webkit_user_content_filter_store_new (path);
      g_autoptr(GBytes) rules = g_bytes_new_static (blocker_rules, sizeof blocker_rules - 1);

      blocker_waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) weak_ref_free);
      webkit_user_content_filter_store_save (store, BLOCKER_ID, rules, NULL, blocker_saved_cb, NULL);
    }
  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, self);
  g_ptr_array_add (blocker_waiting, ref);
  return FALSE;
}

static void
load_now (TernMessageWebView *self)
{
  WebKitUserContentManager *manager = webkit_web_view_get_user_content_manager (self->web_view);
  const char *html = self->content ? tern_message_content_get_html (self->content) : NULL;
  g_autofree char *prepared = NULL;

  self->load_pending = FALSE;
  webkit_user_content_manager_remove_all_filters (manager);
  if (!self->allow_remote && blocker != NULL)
    webkit_user_content_manager_add_filter (manager, blocker);
  prepared = tern_html_filter_prepare (html != NULL ? html : "",
                                       self->allow_remote ? TERN_HTML_FILTER_ALLOW_REMOTE
                                                          : TERN_HTML_FILTER_DEFAULT,
                                       NULL);
  webkit_web_view_load_html (self->web_view, prepared, NULL);
}

void
tern_message_web_view_load (TernMessageWebView *self,
                            TernMessageContent *content,
                            gboolean            allow_remote)
{
  g_return_if_fail (TERN_IS_MESSAGE_WEB_VIEW (self));
  g_return_if_fail (TERN_IS_MESSAGE_CONTENT (content));

  g_set_object (&self->content, content);
  self->allow_remote = allow_remote;
  self->load_pending = TRUE;
  if (allow_remote || blocker_ready (self))
    load_now (self);
}

void
tern_message_web_view_clear (TernMessageWebView *self)
{
  g_return_if_fail (TERN_IS_MESSAGE_WEB_VIEW (self));

  g_clear_object (&self->content);
  self->load_pending = FALSE;
  webkit_web_view_load_html (self->web_view, "", NULL);
}

const char *
tern_message_web_view_get_hover_uri (TernMessageWebView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_WEB_VIEW (self), NULL);
  return self->hover_uri;
}

GtkWidget *
tern_message_web_view_get_web_view (TernMessageWebView *self)
{
  g_return_val_if_fail (TERN_IS_MESSAGE_WEB_VIEW (self), NULL);
  return GTK_WIDGET (self->web_view);
}

static void
open_external (TernMessageWebView *self,
               const char         *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (!tern_plain_text_view_uri_is_openable (uri))
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static gboolean
decide_policy_cb (WebKitWebView            *web_view,
                  WebKitPolicyDecision     *decision,
                  WebKitPolicyDecisionType  type,
                  TernMessageWebView       *self)
{
  WebKitNavigationAction *action;
  const char *uri;

  if (type == WEBKIT_POLICY_DECISION_TYPE_RESPONSE)
    {
      webkit_policy_decision_use (decision);
      return TRUE;
    }
  action = webkit_navigation_policy_decision_get_navigation_action (
    WEBKIT_NAVIGATION_POLICY_DECISION (decision));
  uri = webkit_uri_request_get_uri (webkit_navigation_action_get_request (action));
  /* Our own load_html() and jumps inside the message. */
  if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION &&
      (g_str_has_prefix (uri, "about:blank#") ||
       (g_strcmp0 (uri, "about:blank") == 0 &&
        webkit_navigation_action_get_navigation_type (action) != WEBKIT_NAVIGATION_TYPE_LINK_CLICKED)))
    {
      webkit_policy_decision_use (decision);
      return TRUE;
    }
  webkit_policy_decision_ignore (decision);
  if (webkit_navigation_action_get_navigation_type (action) == WEBKIT_NAVIGATION_TYPE_LINK_CLICKED &&
      webkit_navigation_action_is_user_gesture (action))
    open_external (self, uri);
  return TRUE;
}

static void
mouse_target_changed_cb (WebKitWebView       *web_view,
                         WebKitHitTestResult *hit,
                         guint                modifiers,
                         TernMessageWebView  *self)
{
  const char *uri = webkit_hit_test_result_context_is_link (hit)
                    ? webkit_hit_test_result_get_link_uri (hit) : NULL;

  if (g_strcmp0 (uri, self->hover_uri) == 0)
    return;
  g_free (self->hover_uri);
  self->hover_uri = g_strdup (uri);
  /* The real target, whatever the link's text claims. */
  gtk_label_set_text (self->hover_label, uri != NULL ? uri : "");
  gtk_widget_set_visible (GTK_WIDGET (self->hover_label), uri != NULL);
}

/* Copy only: opening links in new windows, downloads, reload and the
 * inspector have no place in a mail. */
static gboolean
context_menu_cb (WebKitWebView       *web_view,
                 WebKitContextMenu   *menu,
                 WebKitHitTestResult *hit,
                 TernMessageWebView  *self)
{
  GList *items = g_list_copy (webkit_context_menu_get_items (menu));

  for (GList *l = items; l != NULL; l = l->next)
    {
      switch (webkit_context_menu_item_get_stock_action (l->data))
        {
        case WEBKIT_CONTEXT_MENU_ACTION_COPY:
        case WEBKIT_CONTEXT_MENU_ACTION_COPY_LINK_TO_CLIPBOARD:
        case WEBKIT_CONTEXT_MENU_ACTION_COPY_IMAGE_TO_CLIPBOARD:
        case WEBKIT_CONTEXT_MENU_ACTION_SELECT_ALL:
          break;
        default:
          webkit_context_menu_remove (menu, l->data);
          break;
        }
    }
  g_list_free (items);
  return webkit_context_menu_get_n_items (menu) == 0;
}

static void
tern_message_web_view_dispose (GObject *object)
{
  TernMessageWebView *self = TERN_MESSAGE_WEB_VIEW (object);

  /* A cid: request that arrives while the child goes away finds no view. */
  if (self->web_view != NULL)
    {
      g_object_set_data (G_OBJECT (self->web_view), "tern-message-web-view", NULL);
      g_signal_handlers_disconnect_by_data (self->web_view, self);
      self->web_view = NULL;
    }
  g_clear_object (&self->content);
  g_clear_pointer (&self->hover_uri, g_free);

  G_OBJECT_CLASS (tern_message_web_view_parent_class)->dispose (object);
}

static void
tern_message_web_view_class_init (TernMessageWebViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = tern_message_web_view_dispose;

  /* A cid: URI was asked for (found in the message or not). */
  signals[SIGNAL_PART_REQUESTED] =
    g_signal_new ("part-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
tern_message_web_view_init (TernMessageWebView *self)
{
  g_autoptr(WebKitSettings) settings = locked_down_settings ();
  g_autoptr(WebKitUserContentManager) manager = webkit_user_content_manager_new ();
  GtkWidget *overlay = gtk_overlay_new ();

  self->web_view = g_object_new (WEBKIT_TYPE_WEB_VIEW,
                                 "web-context", shared_web_context (),
                                 "network-session", shared_network_session (),
                                 "settings", settings,
                                 "user-content-manager", manager,
                                 "hexpand", TRUE,
                                 "vexpand", TRUE,
                                 NULL);
  g_object_set_data (G_OBJECT (self->web_view), "tern-message-web-view", self);
  g_signal_connect (self->web_view, "decide-policy", G_CALLBACK (decide_policy_cb), self);
  g_signal_connect (self->web_view, "mouse-target-changed", G_CALLBACK (mouse_target_changed_cb), self);
  g_signal_connect (self->web_view, "context-menu", G_CALLBACK (context_menu_cb), self);

  self->hover_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_ellipsize (self->hover_label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_halign (GTK_WIDGET (self->hover_label), GTK_ALIGN_START);
  gtk_widget_set_valign (GTK_WIDGET (self->hover_label), GTK_ALIGN_END);
  gtk_widget_add_css_class (GTK_WIDGET (self->hover_label), "osd");
  gtk_widget_add_css_class (GTK_WIDGET (self->hover_label), "tern-hover-uri");
  gtk_widget_set_visible (GTK_WIDGET (self->hover_label), FALSE);
  gtk_widget_set_can_target (GTK_WIDGET (self->hover_label), FALSE);

  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (self->web_view));
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), GTK_WIDGET (self->hover_label));
  adw_bin_set_child (ADW_BIN (self), overlay);
}

GtkWidget *
tern_message_web_view_new (void)
{
  return g_object_new (TERN_TYPE_MESSAGE_WEB_VIEW, NULL);
}
