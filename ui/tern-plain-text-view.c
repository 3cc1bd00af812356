/* tern-plain-text-view.c: quote levels as tags, links as a tag whose text
 * is the URI.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-plain-text-view"

#include "config.h"

#include "tern-plain-text-view.h"

#include <string.h>

/* Quote levels beyond the last tag take the last one's tint. */
#define N_QUOTE_TAGS 3

struct _TernPlainTextView
{
  GtkTextView parent_instance;

  GRegex *link_regex;
  GtkTextTag *link_tag;
  GtkTextTag *quote_tags[N_QUOTE_TAGS];
  gboolean over_link;
};

G_DEFINE_FINAL_TYPE (TernPlainTextView, tern_plain_text_view, GTK_TYPE_TEXT_VIEW)

/* Tints that read on light and dark backgrounds alike. */
static const char *const quote_colors[N_QUOTE_TAGS] = { "#3584e4", "#2ec27e", "#e66100" };

gboolean
tern_plain_text_view_uri_is_openable (const char *uri)
{
  const char *scheme = uri != NULL ? g_uri_peek_scheme (uri) : NULL;

  return scheme != NULL &&
         (strcmp (scheme, "http") == 0 || strcmp (scheme, "https") == 0 ||
          strcmp (scheme, "mailto") == 0);
}

static guint
quote_level (const char *line)
{
  guint level = 0;

  for (const char *p = line; *p == '>' || *p == ' '; p++)
    if (*p == '>')
      level++;
  return level;
}

/* Tags the links of the line that starts at @line_start. */
static void
tag_links (TernPlainTextView *self,
           GtkTextBuffer     *buffer,
           const char        *line,
           int                line_start)
{
  g_autoptr(GMatchInfo) match = NULL;

  g_regex_match (self->link_regex, line, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      int start_byte, end_byte;
      GtkTextIter start, end;
      const char *end_char;

      g_match_info_fetch_pos (match, 0, &start_byte, &end_byte);
      /* "see https://example.org." ends a sentence, not the URL. */
      end_char = line + end_byte;
      while (end_char > line + start_byte && strchr (".,;:!?)'\"", end_char[-1]) != NULL)
        end_char--;
      gtk_text_buffer_get_iter_at_offset (buffer, &start,
                                          line_start + g_utf8_pointer_to_offset (line, line + start_byte));
      gtk_text_buffer_get_iter_at_offset (buffer, &end,
                                          line_start + g_utf8_pointer_to_offset (line, end_char));
      gtk_text_buffer_apply_tag (buffer, self->link_tag, &start, &end);
    }
}

void
tern_plain_text_view_set_text (TernPlainTextView *self,
                               const char        *text)
{
  GtkTextBuffer *buffer;
  g_auto(GStrv) lines = NULL;
  GtkTextIter end;

  g_return_if_fail (TERN_IS_PLAIN_TEXT_VIEW (self));

  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self));
  gtk_text_buffer_set_text (buffer, "", 0);
  lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      guint level = quote_level (lines[i]);
      int line_start;

      gtk_text_buffer_get_end_iter (buffer, &end);
      line_start = gtk_text_iter_get_offset (&end);
      if (level > 0)
        gtk_text_buffer_insert_with_tags (buffer, &end, lines[i], -1,
                                          self->quote_tags[MIN (level, N_QUOTE_TAGS) - 1], NULL);
      else
        gtk_text_buffer_insert (buffer, &end, lines[i], -1);
      tag_links (self, buffer, lines[i], line_start);
      if (lines[i + 1] != NULL)
        {
          gtk_text_buffer_get_end_iter (buffer, &end);
          gtk_text_buffer_insert (buffer, &end, "\n", 1);
        }
    }
  gtk_text_buffer_get_start_iter (buffer, &end);
  gtk_text_buffer_place_cursor (buffer, &end);
}

char *
tern_plain_text_view_get_link (TernPlainTextView *self,
                               const GtkTextIter *iter)
{
  GtkTextIter start = *iter, end = *iter;

  g_return_val_if_fail (TERN_IS_PLAIN_TEXT_VIEW (self), NULL);

  if (!gtk_text_iter_has_tag (iter, self->link_tag))
    return NULL;
  if (!gtk_text_iter_starts_tag (&start, self->link_tag))
    gtk_text_iter_backward_to_tag_toggle (&start, self->link_tag);
  gtk_text_iter_forward_to_tag_toggle (&end, self->link_tag);
  return gtk_text_iter_get_text (&start, &end);
}

static char *
link_at (TernPlainTextView *self,
         double             x,
         double             y)
{
  GtkTextIter iter;
  int bx, by;

  gtk_text_view_window_to_buffer_coords (GTK_TEXT_VIEW (self), GTK_TEXT_WINDOW_WIDGET, (int) x,
                                         (int) y, &bx, &by);
  if (!gtk_text_view_get_iter_at_location (GTK_TEXT_VIEW (self), &iter, bx, by))
    return NULL;
  return tern_plain_text_view_get_link (self, &iter);
}

static void
open_uri (GtkWidget  *widget,
          const char *uri)
{
  GtkRoot *root = gtk_widget_get_root (widget);

  if (!tern_plain_text_view_uri_is_openable (uri))
    return;
  /* GtkUriLauncher is GTK 4.10; 4.8 has gtk_show_uri(). */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
released_cb (GtkGestureClick   *gesture,
             int                n_press,
             double             x,
             double             y,
             TernPlainTextView *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self));
  g_autofree char *uri = NULL;

  /* A drag that selected text is no click on a link. */
  if (gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture)) != GDK_BUTTON_PRIMARY ||
      gtk_text_buffer_get_has_selection (buffer))
    return;
  uri = link_at (self, x, y);
  if (uri != NULL)
    open_uri (GTK_WIDGET (self), uri);
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           TernPlainTextView        *self)
{
  g_autofree char *uri = link_at (self, x, y);
  gboolean over_link = uri != NULL;

  if (over_link == self->over_link)
    return;
  self->over_link = over_link;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), over_link ? "pointer" : "text");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), uri);
}

static void
tern_plain_text_view_finalize (GObject *object)
{
  TernPlainTextView *self = TERN_PLAIN_TEXT_VIEW (object);

  g_clear_pointer (&self->link_regex, g_regex_unref);

  G_OBJECT_CLASS (tern_plain_text_view_parent_class)->finalize (object);
}

static void
tern_plain_text_view_class_init (TernPlainTextViewClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tern_plain_text_view_finalize;
}

static void
tern_plain_text_view_init (TernPlainTextView *self)
{
  GtkTextView *view = GTK_TEXT_VIEW (self);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *motion = gtk_event_controller_motion_new ();

  gtk_text_view_set_editable (view, FALSE);
  gtk_text_view_set_cursor_visible (view, FALSE);
  gtk_text_view_set_wrap_mode (view, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (view, 12);
  gtk_text_view_set_right_margin (view, 12);
  gtk_text_view_set_top_margin (view, 12);
  gtk_text_view_set_bottom_margin (view, 12);
  gtk_widget_add_css_class (GTK_WIDGET (self), "tern-plain-text");

  self->link_regex = g_regex_new ("\\b(?:https?://|mailto:)[^\\s<>\"]+", G_REGEX_OPTIMIZE, 0, NULL);
  self->link_tag = gtk_text_buffer_create_tag (buffer, "link", "underline", PANGO_UNDERLINE_SINGLE,
                                               "foreground", "#1c71d8", NULL);
  for (guint i = 0; i < N_QUOTE_TAGS; i++)
    {
      g_autofree char *name = g_strdup_printf ("quote-%u", i + 1);

      self->quote_tags[i] = gtk_text_buffer_create_tag (buffer, name, "foreground", quote_colors[i],
                                                        "left-margin", 12 + 12 * (int) i, NULL);
    }
  /* Links stay above quotes: a link in a quote is still blue. */
  gtk_text_tag_set_priority (self->link_tag,
                             gtk_text_tag_table_get_size (gtk_text_buffer_get_tag_table (buffer)) - 1);

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), 0);
  g_signal_connect (click, "released", G_CALLBACK (released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
tern_plain_text_view_new (void)
{
  return g_object_new (TERN_TYPE_PLAIN_TEXT_VIEW, NULL);
}
