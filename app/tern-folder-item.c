/* tern-folder-item.c: one folder of a TernFolderList.
 *
 * Items belong to their list, which updates them in place when the store
 * changes (a count, a rename), so a bound row follows through notify and
 * keeps its place in a tree.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-folder-list"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-folder-item-private.h"

struct _TernFolderItem
{
  GObject parent_instance;

  gint64 id;
  TernAccount *account;
  char *name;
  char *display_name;
  char *role;
  guint unread_count;
  guint total_count;
  GListStore *children;
};

G_DEFINE_FINAL_TYPE (TernFolderItem, tern_folder_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_ACCOUNT,
  PROP_NAME,
  PROP_DISPLAY_NAME,
  PROP_ROLE,
  PROP_ICON_NAME,
  PROP_UNREAD_COUNT,
  PROP_TOTAL_COUNT,
  PROP_CHILDREN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  const char *role;
  const char *display_name;
  const char *icon_name;
} RoleInfo;

static const RoleInfo role_infos[] = {
  { "inbox", N_("Inbox"), "mail-unread-symbolic" },
  { "drafts", N_("Drafts"), "document-edit-symbolic" },
  { "sent", N_("Sent"), "mail-send-symbolic" },
  { "archive", N_("Archive"), "emblem-documents-symbolic" },
  { "junk", N_("Junk"), "mail-mark-junk-symbolic" },
  { "trash", N_("Trash"), "user-trash-symbolic" },
  { "all", N_("All Mail"), "mail-read-symbolic" },
  { "flagged", N_("Starred"), "starred-symbolic" },
  { "outbox", N_("Outbox"), "mail-send-receive-symbolic" },
};

static const RoleInfo *
lookup_role (const char *role)
{
  if (role == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (role_infos); i++)
    if (g_str_equal (role_infos[i].role, role))
      return &role_infos[i];
  return NULL;
}

const char *
tern_folder_role_display_name (const char *role)
{
  const RoleInfo *info = lookup_role (role);

  return info != NULL ? g_dgettext (GETTEXT_PACKAGE, info->display_name) : NULL;
}

const char *
tern_folder_role_icon_name (const char *role)
{
  const RoleInfo *info = lookup_role (role);

  return info != NULL ? info->icon_name : "folder-symbolic";
}

static void
tern_folder_item_finalize (GObject *object)
{
  TernFolderItem *self = TERN_FOLDER_ITEM (object);

  g_clear_object (&self->account);
  g_clear_object (&self->children);
  g_free (self->name);
  g_free (self->display_name);
  g_free (self->role);

  G_OBJECT_CLASS (tern_folder_item_parent_class)->finalize (object);
}

static void
tern_folder_item_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TernFolderItem *self = TERN_FOLDER_ITEM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_ROLE:
      g_value_set_string (value, self->role);
      break;
    case PROP_ICON_NAME:
      g_value_set_string (value, tern_folder_item_get_icon_name (self));
      break;
    case PROP_UNREAD_COUNT:
      g_value_set_uint (value, self->unread_count);
      break;
    case PROP_TOTAL_COUNT:
      g_value_set_uint (value, self->total_count);
      break;
    case PROP_CHILDREN:
      g_value_set_object (value, self->children);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
count_property (const char *name)
{
  return g_param_spec_uint (name, NULL, NULL, 0, G_MAXUINT, 0,
                            G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
tern_folder_item_class_init (TernFolderItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tern_folder_item_finalize;
  object_class->get_property = tern_folder_item_get_property;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, TERN_TYPE_ACCOUNT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] = string_property ("name");
  properties[PROP_DISPLAY_NAME] = string_property ("display-name");
  properties[PROP_ROLE] = string_property ("role");
  properties[PROP_ICON_NAME] = string_property ("icon-name");
  properties[PROP_UNREAD_COUNT] = count_property ("unread-count");
  properties[PROP_TOTAL_COUNT] = count_property ("total-count");
  properties[PROP_CHILDREN] =
    g_param_spec_object ("children", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_folder_item_init (TernFolderItem *self)
{
  self->children = g_list_store_new (TERN_TYPE_FOLDER_ITEM);
}

TernFolderItem *
_tern_folder_item_new (TernAccount *account,
                       gint64       id)
{
  TernFolderItem *self = g_object_new (TERN_TYPE_FOLDER_ITEM, NULL);

  self->account = account != NULL ? g_object_ref (account) : NULL;
  self->id = id;
  return self;
}

static gboolean
replace_string (char       **field,
                const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
replace_count (TernFolderItem *self,
               guint          *field,
               guint           value,
               guint           prop_id)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
_tern_folder_item_update (TernFolderItem *self,
                          const char     *name,
                          const char     *display_name,
                          const char     *role,
                          guint           unread_count,
                          guint           total_count)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (replace_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
  if (replace_string (&self->display_name, display_name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
  if (replace_string (&self->role, role))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROLE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICON_NAME]);
    }
  replace_count (self, &self->unread_count, unread_count, PROP_UNREAD_COUNT);
  replace_count (self, &self->total_count, total_count, PROP_TOTAL_COUNT);
  g_object_thaw_notify (G_OBJECT (self));
}

GListStore *
_tern_folder_item_get_children (TernFolderItem *self)
{
  return self->children;
}

gint64
tern_folder_item_get_id (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), 0);
  return self->id;
}

TernAccount *
tern_folder_item_get_account (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return self->account;
}

const char *
tern_folder_item_get_name (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return self->name;
}

const char *
tern_folder_item_get_display_name (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return self->display_name;
}

const char *
tern_folder_item_get_role (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return self->role;
}

const char *
tern_folder_item_get_icon_name (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return tern_folder_role_icon_name (self->role);
}

guint
tern_folder_item_get_unread_count (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), 0);
  return self->unread_count;
}

guint
tern_folder_item_get_total_count (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), 0);
  return self->total_count;
}

GListModel *
tern_folder_item_get_children (TernFolderItem *self)
{
  g_return_val_if_fail (TERN_IS_FOLDER_ITEM (self), NULL);
  return G_LIST_MODEL (self->children);
}
