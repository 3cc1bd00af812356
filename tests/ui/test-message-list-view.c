/* test-message-list-view.c: the message list pane under a real X server
 * while mail arrives.  Once the reader has scrolled, a GtkListView keeps
 * the row at its top in place when rows are added above it; new mail sorts
 * above everything, so the view must go back to the top when the reader
 * was there, and keep the rows being read where they are when the reader
 * had scrolled down.
 *
 * The store is written directly (as the sync would), no server needed:
 * test-main-window covers the same window against Dovecot.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tern-application.h"
#include "tern-message-item.h"
#include "tern-message-list-view.h"
#include "tern-message-row.h"
#include "tern-test-store.h"
#include "tern-test-ui.h"
#include "tern-test-util.h"

#define BASE_DATE G_GINT64_CONSTANT (1790000000)
#define N_MESSAGES 200

typedef struct
{
  TernTestProfile profile;
  TernContext *context;
  TernStore *store;
  gint64 folder_id;
  guint32 next_uid;
  GtkWidget *window;
  TernMessageListView *view;
  TernMessageList *list;
} Fixture;

/* Stores a message dated @date into the folder, as a sync would. */
static guint32
deliver (Fixture *fixture,
         gint64   date)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  guint32 uid = fixture->next_uid++;
  g_autofree char *subject = g_strdup_printf ("Message %u", uid);

  g_ptr_array_add (messages, tern_test_new_message (uid, date, "sender", subject, NULL));
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);
  return uid;
}

static gboolean
list_has (gpointer data)
{
  gpointer *args = data;

  return g_list_model_get_n_items (G_LIST_MODEL (args[0])) == GPOINTER_TO_UINT (args[1]);
}

/* Waits until the list announced @n rows and the view drew them. */
static void
wait_for_rows (Fixture *fixture,
               guint    n)
{
  gpointer args[] = { fixture->list, GUINT_TO_POINTER (n) };

  tern_test_wait_until (list_has, args, "the new message in the list");
  tern_test_wait_for_frames (fixture->window);
}

/* The subject of the row drawn at the top of the list's viewport. */
static TernMessageRow *
top_row (Fixture *fixture)
{
  GtkWidget *list_view = GTK_WIDGET (tern_message_list_view_get_list_view (fixture->view));
  GtkWidget *widget = gtk_widget_pick (list_view, 60, 10, GTK_PICK_DEFAULT);

  while (widget != NULL && !TERN_IS_MESSAGE_ROW (widget))
    widget = gtk_widget_get_parent (widget);
  g_assert_nonnull (widget);
  return TERN_MESSAGE_ROW (widget);
}

static const char *
top_subject (Fixture *fixture)
{
  return tern_message_item_get_subject (tern_message_row_get_item (top_row (fixture)));
}

static GtkAdjustment *
vadjustment (Fixture *fixture)
{
  GtkListView *list_view = tern_message_list_view_get_list_view (fixture->view);

  return gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (list_view));
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) messages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) tern_mail_new_message_free);
  g_autoptr(GError) error = NULL;

  tern_test_profile_setup (&fixture->profile, data);
  fixture->context = tern_context_new (fixture->profile.profile, &error);
  g_assert_no_error (error);
  fixture->store = tern_context_get_store (fixture->context);
  tern_test_store_add_account (fixture->store, 7);
  fixture->folder_id = tern_test_store_add_folder (fixture->store, 7, "INBOX");

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Message %u", i + 1);

      g_ptr_array_add (messages,
                       tern_test_new_message (i + 1, BASE_DATE + 60 * i, "sender", subject, NULL));
    }
  fixture->next_uid = N_MESSAGES + 1;
  tern_test_store_add_messages (fixture->store, fixture->folder_id, messages);

  fixture->list = tern_message_list_new (fixture->store, fixture->folder_id, &error);
  g_assert_no_error (error);
  fixture->view = TERN_MESSAGE_LIST_VIEW (tern_message_list_view_new ());
  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 400, 500);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
  tern_test_wait_for_frames (fixture->window);
  /* As the window does: the list comes once a folder is chosen. */
  tern_message_list_view_set_list (fixture->view, fixture->list);
  tern_test_wait_for_frames (fixture->window);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_clear_object (&fixture->list);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (fixture->context);
  tern_test_profile_teardown (&fixture->profile, data);
}

/* At the top, new mail shows at the top. */
static void
test_new_mail_at_top (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(TernMessageItem) first = NULL;
  GtkAdjustment *adjustment = vadjustment (fixture);
  g_autofree char *subject = NULL;
  guint32 uid;

  /* The reader scrolled down and back up. */
  gtk_adjustment_set_value (adjustment, 600);
  tern_test_wait_for_frames (fixture->window);
  gtk_adjustment_set_value (adjustment, 0);
  tern_test_wait_for_frames (fixture->window);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), <=,
                     gtk_adjustment_get_lower (adjustment));
  g_assert_cmpfloat (gtk_adjustment_get_upper (adjustment), >,
                     gtk_adjustment_get_page_size (adjustment));

  for (guint i = 1; i <= 3; i++)
    {
      uid = deliver (fixture, BASE_DATE + 60 * N_MESSAGES + i);
      g_free (subject);
      subject = g_strdup_printf ("Message %u", uid);
      wait_for_rows (fixture, N_MESSAGES + i);
      first = g_list_model_get_item (G_LIST_MODEL (fixture->list), 0);
      g_assert_cmpstr (tern_message_item_get_subject (first), ==, subject);
      g_clear_object (&first);
      /* Still at the top: the newest row is the one drawn first. */
      g_assert_cmpstr (top_subject (fixture), ==, subject);
      g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), <=,
                         gtk_adjustment_get_lower (adjustment));
    }
}

/* Scrolled down, the rows being read stay in place: the view moves by
 * the height of the rows added above. */
static void
test_new_mail_scrolled (Fixture       *fixture,
                        gconstpointer  data)
{
  GtkAdjustment *adjustment = vadjustment (fixture);
  g_autofree char *shown = NULL;
  double before;

  gtk_adjustment_set_value (adjustment, 600);
  tern_test_wait_for_frames (fixture->window);
  before = gtk_adjustment_get_value (adjustment);
  g_assert_cmpfloat (before, >, gtk_adjustment_get_lower (adjustment));
  shown = g_strdup (top_subject (fixture));

  deliver (fixture, BASE_DATE + 60 * N_MESSAGES + 1);
  wait_for_rows (fixture, N_MESSAGES + 1);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), >, before);
  g_assert_cmpstr (top_subject (fixture), ==, shown);
}

/* A row's date is said again when the day changes: the time of a message
 * of today becomes "Yesterday" after midnight, without a rebind. */
static void
test_dates_at_midnight (Fixture       *fixture,
                        gconstpointer  data)
{
  TernMessageRow *row = top_row (fixture);
  GtkLabel *label = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (row),
                                                              TERN_TYPE_MESSAGE_ROW,
                                                              "date_label"));
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (
    tern_message_item_get_date (tern_message_row_get_item (row)));
  g_autoptr(GDateTime) evening = g_date_time_new_local (g_date_time_get_year (when),
                                                        g_date_time_get_month (when),
                                                        g_date_time_get_day_of_month (when),
                                                        23, 59, 0);
  g_autoptr(GDateTime) morning = g_date_time_add_minutes (evening, 2);
  g_autofree char *time = g_date_time_format (when, "%H:%M");

  tern_message_row_refresh_dates (evening);
  g_assert_cmpstr (gtk_label_get_text (label), ==, time);
  tern_message_row_refresh_dates (morning);
  g_assert_cmpstr (gtk_label_get_text (label), ==, "Yesterday");
  tern_message_row_refresh_dates (NULL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gtk_init ();
  adw_init ();
  tern_ui_register_resources ();

  g_test_add ("/tern/message-list-view/new-mail-at-top", Fixture, NULL, fixture_setup,
              test_new_mail_at_top, fixture_teardown);
  g_test_add ("/tern/message-list-view/new-mail-scrolled", Fixture, NULL, fixture_setup,
              test_new_mail_scrolled, fixture_teardown);
  g_test_add ("/tern/message-list-view/dates-at-midnight", Fixture, NULL, fixture_setup,
              test_dates_at_midnight, fixture_teardown);
  return g_test_run ();
}
