/* tern-test-ui.h: helpers shared by Tern's UI tests (GTK; the engine's
 * tests use tern-test-util.h only).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tern-context.h"
#include "tern-window.h"

G_BEGIN_DECLS

/* Whether a drawable GtkLabel below @widget (or @widget itself) shows
 * exactly @text. */
gboolean     tern_test_shows_label      (GtkWidget  *widget,
                                         const char *text);
/* The first widget of @type in @widget's tree, depth first, or NULL. */
GtkWidget   *tern_test_find_descendant  (GtkWidget  *widget,
                                         GType       type);
/* The first drawable GtkTextView in @widget's tree, or NULL. */
GtkTextView *tern_test_find_text_view   (GtkWidget  *widget);
/* With TERN_TEST_SCREENSHOT_DIR set, saves @window as the X server shows
 * it (ImageMagick's import) to DIR/@name; does nothing otherwise. */
void         tern_test_save_screenshot  (GtkWidget  *window,
                                         const char *name);
/* Waits until GTK drew @widget's window twice (and drains): what a
 * rendering of it then shows is the current state. */
void         tern_test_wait_for_frames  (GtkWidget  *widget);
/* Waits until GTK drew @widget's window @n times (@what names them in
 * the failure): the main loop did not stop meanwhile. */
void         tern_test_wait_for_n_frames (GtkWidget  *widget,
                                          guint       n,
                                          const char *what);
/* With TERN_TEST_SCREENSHOT_DIR set, saves @window as GTK renders it (no
 * X server: nothing of other windows over it) to DIR/@name as PNG; does
 * nothing otherwise. The caller waits for what it wants to show first. */
void         tern_test_save_rendering   (GtkWidget  *window,
                                         const char *name);
/* Destroys @window, cancels @account's jobs and waits until nothing but
 * the caller holds @context: the jobs' callbacks hold it until they ran. */
void         tern_test_close_window     (TernContext *context,
                                         TernAccount *account,
                                         TernWindow  *window);
/* The application's style sheet on the display, as AdwApplication loads
 * it: test windows are not the application's and would be drawn without. */
void         tern_test_load_style       (void);

G_END_DECLS
