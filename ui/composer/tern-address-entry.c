/* tern-address-entry.c: an address list entry with completion.
 *
 * The address being typed is what follows the last comma.  Each change
 * asks the address book for the people it starts (most frequent first)
 * and shows them in a popover below the entry; Down and Up move through
 * them, Return or a click takes one.  The popover never takes the focus,
 * so typing goes on in the entry.  (GtkEntryCompletion would do, but is
 * deprecated from GTK 4.10 on.)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-address-entry"

#include "config.h"

#include <string.h>

#include "tern-address-entry.h"

#define MAX_COMPLETIONS 8

struct _TernAddressEntry
{
  GtkWidget parent_instance;

  GtkEntry *entry;
  GtkPopover *popover;
  GtkListView *list_view;
  GtkStringList *completions;
  GtkSingleSelection *selection;
  TernAddressBook *address_book;
  gboolean completing; /* the text is being replaced by a completion */
};

G_DEFINE_FINAL_TYPE (TernAddressEntry, tern_address_entry, GTK_TYPE_WIDGET)

/* Where the address being typed starts in @text. */
static const char *
current_token (const char *text)
{
  const char *comma = strrchr (text, ',');
  const char *token = comma != NULL ? comma + 1 : text;

  while (*token == ' ')
    token++;
  return token;
}

/* Text set by the program (a reply's recipients, a draft) is not typed:
 * only the focused entry completes. */
static gboolean
is_typing (TernAddressEntry *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  return focus != NULL
         && (focus == GTK_WIDGET (self->entry)
             || gtk_widget_is_ancestor (focus, GTK_WIDGET (self->entry)));
}

static void
hide_completions (TernAddressEntry *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->completions));

  gtk_string_list_splice (self->completions, 0, n, NULL);
  gtk_popover_popdown (self->popover);
}

static void
update_completions (TernAddressEntry *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  const char *token = current_token (text);
  g_auto(GStrv) found = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->completions));

  if (self->address_book == NULL || *token == '\0' || !is_typing (self))
    {
      hide_completions (self);
      return;
    }
  found = tern_address_book_complete (self->address_book, token, MAX_COMPLETIONS);
  gtk_string_list_splice (self->completions, 0, n, (const char *const *) found);
  if (found[0] == NULL)
    {
      gtk_popover_popdown (self->popover);
      return;
    }
  gtk_single_selection_set_selected (self->selection, 0);
  gtk_popover_popup (self->popover);
}

static void
changed_cb (TernAddressEntry *self)
{
  if (!self->completing)
    update_completions (self);
}

void
tern_address_entry_complete (TernAddressEntry *self,
                             guint             position)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  const char *completion;
  g_autofree char *result = NULL;

  g_return_if_fail (TERN_IS_ADDRESS_ENTRY (self));

  if (position >= g_list_model_get_n_items (G_LIST_MODEL (self->completions)))
    return;
  completion = gtk_string_list_get_string (self->completions, position);
  result = g_strdup_printf ("%.*s%s, ", (int) (current_token (text) - text), text, completion);
  self->completing = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->entry), result);
  gtk_editable_set_position (GTK_EDITABLE (self->entry), -1);
  self->completing = FALSE;
  hide_completions (self);
}

static void
activate_cb (GtkListView      *list_view,
             guint             position,
             TernAddressEntry *self)
{
  tern_address_entry_complete (self, position);
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

/* Down, Up and Return choose among the completions while they show;
 * Escape hides them (and only them). */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                TernAddressEntry      *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->completions));
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (n == 0 || !gtk_widget_get_visible (GTK_WIDGET (self->popover)))
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      gtk_single_selection_set_selected (self->selection, (selected + 1) % n);
      return TRUE;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      gtk_single_selection_set_selected (self->selection, selected == 0 ? n - 1 : selected - 1);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_Tab:
      tern_address_entry_complete (self, selected);
      return TRUE;
    case GDK_KEY_Escape:
      hide_completions (self);
      return TRUE;
    default:
      return FALSE;
    }
}

/* Focus left the entry and its popover (the popover is a child of this
 * widget, so choosing a row there does not count). */
static void
focus_leave_cb (TernAddressEntry *self)
{
  hide_completions (self);
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item)
{
  GtkStringObject *string = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (string));
}

static void
tern_address_entry_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  TernAddressEntry *self = TERN_ADDRESS_ENTRY (widget);

  int popover_width;

  gtk_widget_allocate (GTK_WIDGET (self->entry), width, height, baseline, NULL);
  /* As wide as the entry: long "Name <address>" lines stay readable. */
  gtk_widget_get_size_request (GTK_WIDGET (self->popover), &popover_width, NULL);
  if (popover_width != width)
    gtk_widget_set_size_request (GTK_WIDGET (self->popover), width, -1);
  gtk_popover_present (self->popover);
}

static void
tern_address_entry_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  gtk_widget_measure (GTK_WIDGET (TERN_ADDRESS_ENTRY (widget)->entry), orientation, for_size,
                      minimum, natural, minimum_baseline, natural_baseline);
}

static gboolean
tern_address_entry_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (GTK_WIDGET (TERN_ADDRESS_ENTRY (widget)->entry));
}

static void
tern_address_entry_dispose (GObject *object)
{
  TernAddressEntry *self = TERN_ADDRESS_ENTRY (object);

  g_clear_pointer ((GtkWidget **) &self->entry, gtk_widget_unparent);
  g_clear_pointer ((GtkWidget **) &self->popover, gtk_widget_unparent);
  g_clear_object (&self->address_book);

  G_OBJECT_CLASS (tern_address_entry_parent_class)->dispose (object);
}

static void
tern_address_entry_class_init (TernAddressEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tern_address_entry_dispose;
  widget_class->size_allocate = tern_address_entry_size_allocate;
  widget_class->measure = tern_address_entry_measure;
  widget_class->grab_focus = tern_address_entry_grab_focus;
}

static void
tern_address_entry_init (TernAddressEntry *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkEventController *keys = gtk_event_controller_key_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  self->entry = GTK_ENTRY (gtk_entry_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->entry), TRUE);
  gtk_widget_set_parent (GTK_WIDGET (self->entry), GTK_WIDGET (self));
  g_signal_connect_swapped (self->entry, "changed", G_CALLBACK (changed_cb), self);
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->entry), keys);
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (focus_leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), focus);

  self->completions = gtk_string_list_new (NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->completions));
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), NULL);
  self->list_view = GTK_LIST_VIEW (gtk_list_view_new (GTK_SELECTION_MODEL (self->selection),
                                                      factory));
  gtk_list_view_set_single_click_activate (self->list_view, TRUE);
  g_signal_connect (self->list_view, "activate", G_CALLBACK (activate_cb), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->list_view));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 320);

  self->popover = GTK_POPOVER (gtk_popover_new ());
  gtk_popover_set_child (self->popover, scrolled);
  gtk_popover_set_autohide (self->popover, FALSE);
  gtk_popover_set_has_arrow (self->popover, FALSE);
  gtk_popover_set_position (self->popover, GTK_POS_BOTTOM);
  gtk_widget_set_halign (GTK_WIDGET (self->popover), GTK_ALIGN_START);
  gtk_widget_add_css_class (GTK_WIDGET (self->popover), "menu");
  gtk_widget_set_parent (GTK_WIDGET (self->popover), GTK_WIDGET (self));
}

GtkWidget *
tern_address_entry_new (void)
{
  return g_object_new (TERN_TYPE_ADDRESS_ENTRY, NULL);
}

GtkEntry *
tern_address_entry_get_entry (TernAddressEntry *self)
{
  g_return_val_if_fail (TERN_IS_ADDRESS_ENTRY (self), NULL);
  return self->entry;
}

void
tern_address_entry_set_address_book (TernAddressEntry *self,
                                     TernAddressBook  *address_book)
{
  g_return_if_fail (TERN_IS_ADDRESS_ENTRY (self));
  g_set_object (&self->address_book, address_book);
}

GListModel *
tern_address_entry_get_completions (TernAddressEntry *self)
{
  g_return_val_if_fail (TERN_IS_ADDRESS_ENTRY (self), NULL);
  return G_LIST_MODEL (self->completions);
}
