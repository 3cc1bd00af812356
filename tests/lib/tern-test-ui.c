/* tern-test-ui.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk/x11/gdkx.h>

#include "tern-test-ui.h"
#include "tern-test-util.h"
#include "tern-worker-pool.h"

gboolean
tern_test_shows_label (GtkWidget  *widget,
                       const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_is_drawable (widget)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (tern_test_shows_label (child, text))
      return TRUE;
  return FALSE;
}

GtkWidget *
tern_test_find_descendant (GtkWidget *widget,
                           GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = tern_test_find_descendant (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkTextView *
tern_test_find_text_view (GtkWidget *widget)
{
  if (GTK_IS_TEXT_VIEW (widget) && gtk_widget_is_drawable (widget))
    return GTK_TEXT_VIEW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkTextView *found = tern_test_find_text_view (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

void
tern_test_save_screenshot (GtkWidget  *window,
                           const char *name)
{
  const char *dir = g_getenv ("TERN_TEST_SCREENSHOT_DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *path = NULL;
  g_autofree char *xid = NULL;

  if (dir == NULL)
    return;
  /* Let the last frame reach the X server. */
  for (int i = 0; i < 20; i++)
    {
      g_usleep (20000);
      tern_test_drain ();
    }
  xid = g_strdup_printf ("0x%lx", (unsigned long) gdk_x11_surface_get_xid (
                                    gtk_native_get_surface (GTK_NATIVE (window))));
  path = g_build_filename (dir, name, NULL);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "import", "-window", xid,
                              path, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));
  g_test_message ("Saved %s", path);
}

typedef struct
{
  guint drawn;
  guint wanted;
} Frames;

static gboolean
frame_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       user_data)
{
  Frames *frames = user_data;

  /* Removed at the last frame wanted: @frames is on the waiter's stack. */
  return ++frames->drawn < frames->wanted ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
frames_drawn (gpointer data)
{
  Frames *frames = data;

  return frames->drawn >= frames->wanted;
}

void
tern_test_wait_for_n_frames (GtkWidget  *widget,
                             guint       n,
                             const char *what)
{
  Frames frames = { 0, n };

  gtk_widget_add_tick_callback (widget, frame_cb, &frames, NULL);
  tern_test_wait_until (frames_drawn, &frames, what);
}

void
tern_test_wait_for_frames (GtkWidget *widget)
{
  tern_test_wait_for_n_frames (widget, 2, "the window to draw");
  tern_test_drain ();
}

void
tern_test_save_rendering (GtkWidget  *window,
                          const char *name)
{
  const char *dir = g_getenv ("TERN_TEST_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  graphene_rect_t bounds;

  if (dir == NULL)
    return;
  paintable = gtk_widget_paintable_new (window);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (window),
                          gtk_widget_get_height (window));
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  graphene_rect_init (&bounds, 0, 0, gtk_widget_get_width (window), gtk_widget_get_height (window));
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &bounds);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("Saved %s", path);
}

void
tern_test_close_window (TernContext *context,
                        TernAccount *account,
                        TernWindow  *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  tern_worker_pool_cancel_account (tern_context_get_worker_pool (context), account);
  tern_test_wait_for_last_ref (context);
}

void
tern_test_load_style (void)
{
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  gtk_css_provider_load_from_resource (css, "/org/ternmail/Tern/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}
