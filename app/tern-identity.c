/* tern-identity.c: see tern-identity.h for where identities are kept.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-identity"

#include "config.h"

#include "tern-identity.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tern-account-options.h"
#include "tern-app-error.h"
#include "tern-composer-private.h"
#include "tern-mail-store-private.h"

#define COMPOSING_GROUP "composing"
#define ALIAS_GROUP_PREFIX "identity "

struct _TernIdentity
{
  GObject parent_instance;

  TernAccount *account;
  gboolean primary;
  char *display_name;
  char *address;
  char *reply_to;
  char *signature;          /* its own, NULL: the account's */
  char *account_signature;  /* as loaded */
};

G_DEFINE_FINAL_TYPE (TernIdentity, tern_identity, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_PRIMARY,
  PROP_DISPLAY_NAME,
  PROP_ADDRESS,
  PROP_REPLY_TO,
  PROP_SIGNATURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Empty and blank text is no value. */
static void
set_field (TernIdentity *self,
           char        **field,
           const char   *value,
           guint         prop_id)
{
  g_autofree char *stripped = value != NULL ? g_strstrip (g_strdup (value)) : NULL;

  /* A signature keeps its lines as written; only blank is none. */
  if (stripped != NULL && *stripped == '\0')
    g_clear_pointer (&stripped, g_free);
  else if (prop_id == PROP_SIGNATURE && stripped != NULL)
    {
      g_free (stripped);
      stripped = g_strdup (value);
    }
  if (g_strcmp0 (*field, stripped) == 0)
    return;
  g_free (*field);
  *field = g_steal_pointer (&stripped);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
tern_identity_finalize (GObject *object)
{
  TernIdentity *self = TERN_IDENTITY (object);

  g_clear_object (&self->account);
  g_free (self->display_name);
  g_free (self->address);
  g_free (self->reply_to);
  g_free (self->signature);
  g_free (self->account_signature);

  G_OBJECT_CLASS (tern_identity_parent_class)->finalize (object);
}

static void
tern_identity_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TernIdentity *self = TERN_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    case PROP_PRIMARY:
      g_value_set_boolean (value, self->primary);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_REPLY_TO:
      g_value_set_string (value, self->reply_to);
      break;
    case PROP_SIGNATURE:
      g_value_set_string (value, self->signature);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_identity_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  TernIdentity *self = TERN_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;
    case PROP_DISPLAY_NAME:
      set_field (self, &self->display_name, g_value_get_string (value), prop_id);
      break;
    case PROP_ADDRESS:
      set_field (self, &self->address, g_value_get_string (value), prop_id);
      break;
    case PROP_REPLY_TO:
      set_field (self, &self->reply_to, g_value_get_string (value), prop_id);
      break;
    case PROP_SIGNATURE:
      set_field (self, &self->signature, g_value_get_string (value), prop_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_identity_class_init (TernIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = tern_identity_finalize;
  object_class->get_property = tern_identity_get_property;
  object_class->set_property = tern_identity_set_property;

  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, TERN_TYPE_ACCOUNT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRIMARY] =
    g_param_spec_boolean ("primary", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, flags);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, flags);
  properties[PROP_REPLY_TO] = g_param_spec_string ("reply-to", NULL, NULL, NULL, flags);
  properties[PROP_SIGNATURE] = g_param_spec_string ("signature", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_identity_init (TernIdentity *self)
{
}

TernIdentity *
tern_identity_new (TernAccount *account,
                   const char  *display_name,
                   const char  *address)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  return g_object_new (TERN_TYPE_IDENTITY, "account", account, "display-name", display_name,
                       "address", address, NULL);
}

TernAccount *
tern_identity_get_account (TernIdentity *self)
{
  g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);
  return self->account;
}

gboolean
tern_identity_is_primary (TernIdentity *self)
{
  g_return_val_if_fail (TERN_IS_IDENTITY (self), FALSE);
  return self->primary;
}

#define ACCESSORS(field, PROP)                                                   \
  const char *tern_identity_get_##field (TernIdentity *self)                     \
  {                                                                              \
    g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);                        \
    return self->field;                                                          \
  }                                                                              \
  void tern_identity_set_##field (TernIdentity *self, const char *value)         \
  {                                                                              \
    g_return_if_fail (TERN_IS_IDENTITY (self));                                  \
    set_field (self, &self->field, value, PROP);                                 \
  }

ACCESSORS (display_name, PROP_DISPLAY_NAME)
ACCESSORS (address, PROP_ADDRESS)
ACCESSORS (reply_to, PROP_REPLY_TO)
ACCESSORS (signature, PROP_SIGNATURE)

const char *
tern_identity_get_message_signature (TernIdentity *self)
{
  g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);
  return self->signature != NULL ? self->signature : self->account_signature;
}

char *
tern_identity_dup_from (TernIdentity *self)
{
  g_autoptr(InternetAddress) mailbox = NULL;
  const char *name;

  g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);

  /* An identity named after its address gets no display name. */
  name = self->display_name;
  if (g_strcmp0 (name, self->address) == 0)
    name = NULL;
  _tern_mail_ensure_gmime ();
  mailbox = internet_address_mailbox_new (name, self->address ? self->address : "");
  return internet_address_to_string (mailbox, NULL, FALSE);
}

char *
tern_identity_dup_mailbox (TernIdentity *self)
{
  g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);

  if (self->display_name == NULL || g_strcmp0 (self->display_name, self->address) == 0)
    return g_strdup (self->address);
  return g_strdup_printf ("%s <%s>", self->display_name, self->address);
}

char *
tern_identity_dup_label (TernIdentity *self)
{
  g_autofree char *mailbox = NULL;

  g_return_val_if_fail (TERN_IS_IDENTITY (self), NULL);

  mailbox = tern_identity_dup_mailbox (self);
  /* TRANSLATORS: an address to send from, and its account's name:
   * "Anna <anna@example.org> — Work" */
  return g_strdup_printf (_("%s — %s"), mailbox, tern_account_get_display_name (self->account));
}

gboolean
tern_identity_validate (TernIdentity  *self,
                        GError       **error)
{
  g_autoptr(InternetAddressList) list = NULL;
  guint n = 0;

  g_return_val_if_fail (TERN_IS_IDENTITY (self), FALSE);

  _tern_mail_ensure_gmime ();
  if (self->address == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("An identity needs an email address"));
      return FALSE;
    }
  list = internet_address_list_new ();
  /* Brackets would end the group name the alias is kept under. */
  if (strpbrk (self->address, "[]") != NULL
      || !_tern_composer_parse_addresses (self->address, list, &n, NULL) || n != 1
      || g_strcmp0 (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (
                      internet_address_list_get_address (list, 0))),
                    self->address) != 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not an email address"), self->address);
      return FALSE;
    }
  internet_address_list_clear (list);
  n = 0;
  if (self->reply_to != NULL
      && (!_tern_composer_parse_addresses (self->reply_to, list, &n, NULL) || n == 0))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The Reply-To “%s” is not a list of email addresses"), self->reply_to);
      return FALSE;
    }
  return TRUE;
}

/* Storing */

static char *
get_string (GKeyFile   *key_file,
            const char *group,
            const char *key)
{
  g_autofree char *value = g_key_file_get_string (key_file, group, key, NULL);

  return value != NULL && *value != '\0' ? g_steal_pointer (&value) : NULL;
}

static void
set_string (GKeyFile   *key_file,
            const char *group,
            const char *key,
            const char *value)
{
  if (value != NULL)
    g_key_file_set_string (key_file, group, key, value);
  else
    g_key_file_remove_key (key_file, group, key, NULL);
}

static TernIdentity *
primary_identity (TernAccount *account,
                  GKeyFile    *key_file)
{
  TernIdentity *identity = tern_identity_new (account, tern_account_get_display_name (account),
                                              tern_account_get_address (account));

  identity->primary = TRUE;
  identity->reply_to = get_string (key_file, COMPOSING_GROUP, "reply-to");
  identity->signature = get_string (key_file, COMPOSING_GROUP, "signature");
  identity->account_signature = g_strdup (identity->signature);
  return identity;
}

/* The aliases of @key_file, in order. */
static GPtrArray *
read_aliases (TernAccount *account,
              GKeyFile    *key_file)
{
  GPtrArray *aliases = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);
  g_autofree char *account_signature = get_string (key_file, COMPOSING_GROUP, "signature");

  for (guint i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];
      g_autofree char *name = NULL;
      TernIdentity *identity;

      if (!g_str_has_prefix (group, ALIAS_GROUP_PREFIX))
        continue;
      name = get_string (key_file, group, "name");
      identity = tern_identity_new (account, name, group + strlen (ALIAS_GROUP_PREFIX));
      identity->reply_to = get_string (key_file, group, "reply-to");
      identity->signature = get_string (key_file, group, "signature");
      identity->account_signature = g_strdup (account_signature);
      g_ptr_array_add (aliases, identity);
    }
  return aliases;
}

/* Replaces the alias groups of @key_file with @aliases. */
static void
write_aliases (GKeyFile  *key_file,
               GPtrArray *aliases)
{
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    if (g_str_has_prefix (groups[i], ALIAS_GROUP_PREFIX))
      g_key_file_remove_group (key_file, groups[i], NULL);
  for (guint i = 0; i < aliases->len; i++)
    {
      TernIdentity *alias = g_ptr_array_index (aliases, i);
      g_autofree char *group = g_strconcat (ALIAS_GROUP_PREFIX, alias->address, NULL);

      /* The group exists even when every key is empty. */
      g_key_file_set_string (key_file, group, "name", alias->display_name ? alias->display_name : "");
      set_string (key_file, group, "reply-to", alias->reply_to);
      set_string (key_file, group, "signature", alias->signature);
    }
}

GListModel *
tern_identities_load (TernStore    *store,
                      TernAccount  *account,
                      GError      **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GListStore) identities = NULL;
  g_autoptr(TernIdentity) primary = NULL;
  g_autoptr(GPtrArray) aliases = NULL;

  g_return_val_if_fail (TERN_IS_STORE (store), NULL);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), NULL);

  key_file = tern_account_options_load (store, tern_account_get_id (account), error);
  if (key_file == NULL)
    return NULL;
  identities = g_list_store_new (TERN_TYPE_IDENTITY);
  primary = primary_identity (account, key_file);
  g_list_store_append (identities, primary);
  aliases = read_aliases (account, key_file);
  g_list_store_splice (identities, 1, 0, aliases->pdata, aliases->len);
  return G_LIST_MODEL (g_steal_pointer (&identities));
}

static int
find_alias (GPtrArray  *aliases,
            const char *address)
{
  for (guint i = 0; address != NULL && i < aliases->len; i++)
    {
      TernIdentity *alias = g_ptr_array_index (aliases, i);

      if (g_ascii_strcasecmp (alias->address, address) == 0)
        return i;
    }
  return -1;
}

static gboolean
save_alias (GKeyFile      *key_file,
            TernIdentity  *identity,
            const char    *old_address,
            GError       **error)
{
  g_autoptr(GPtrArray) aliases = read_aliases (identity->account, key_file);
  int old = find_alias (aliases, old_address);
  int same = find_alias (aliases, identity->address);

  if (g_ascii_strcasecmp (identity->address, tern_account_get_address (identity->account)) == 0
      || (same >= 0 && same != old))
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("%s already has the identity %s"),
                   tern_account_get_display_name (identity->account), identity->address);
      return FALSE;
    }
  if (old_address != NULL && old < 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND,
                   _("%s has no identity %s"),
                   tern_account_get_display_name (identity->account), old_address);
      return FALSE;
    }
  if (old >= 0)
    {
      TernIdentity *previous = g_ptr_array_index (aliases, old);

      g_ptr_array_index (aliases, old) = g_object_ref (identity);
      g_object_unref (previous);
    }
  else
    g_ptr_array_add (aliases, g_object_ref (identity));
  write_aliases (key_file, aliases);
  return TRUE;
}

gboolean
tern_identities_save (TernStore     *store,
                      TernIdentity  *identity,
                      const char    *old_address,
                      GError       **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  gint64 account_id;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (TERN_IS_IDENTITY (identity), FALSE);

  if (!tern_identity_validate (identity, error))
    return FALSE;
  account_id = tern_account_get_id (identity->account);
  key_file = tern_account_options_load (store, account_id, error);
  if (key_file == NULL)
    return FALSE;
  if (identity->primary)
    {
      set_string (key_file, COMPOSING_GROUP, "reply-to", identity->reply_to);
      set_string (key_file, COMPOSING_GROUP, "signature", identity->signature);
    }
  else if (!save_alias (key_file, identity, old_address, error))
    return FALSE;
  return tern_account_options_save (store, account_id, key_file, error);
}

gboolean
tern_identities_remove (TernStore    *store,
                        TernAccount  *account,
                        const char   *address,
                        GError      **error)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GPtrArray) aliases = NULL;
  int index;

  g_return_val_if_fail (TERN_IS_STORE (store), FALSE);
  g_return_val_if_fail (TERN_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (g_ascii_strcasecmp (address, tern_account_get_address (account)) == 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("%s is the account’s own address: it cannot be removed"), address);
      return FALSE;
    }
  key_file = tern_account_options_load (store, tern_account_get_id (account), error);
  if (key_file == NULL)
    return FALSE;
  aliases = read_aliases (account, key_file);
  index = find_alias (aliases, address);
  if (index < 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_NOT_FOUND, _("%s has no identity %s"),
                   tern_account_get_display_name (account), address);
      return FALSE;
    }
  g_ptr_array_remove_index (aliases, index);
  write_aliases (key_file, aliases);
  return tern_account_options_save (store, tern_account_get_id (account), key_file, error);
}

TernIdentity *
tern_identities_find (GListModel *identities,
                      const char *address)
{
  g_return_val_if_fail (G_IS_LIST_MODEL (identities), NULL);

  for (guint i = 0; address != NULL && i < g_list_model_get_n_items (identities); i++)
    {
      g_autoptr(TernIdentity) identity = g_list_model_get_item (identities, i);

      if (g_ascii_strcasecmp (identity->address, address) == 0)
        return g_steal_pointer (&identity);
    }
  return NULL;
}

/* The first identity with an address of @list (groups looked into). */
static TernIdentity *
find_in_list (GListModel          *identities,
              InternetAddressList *list)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);
      TernIdentity *found;

      if (INTERNET_ADDRESS_IS_GROUP (address))
        found = find_in_list (identities, internet_address_group_get_members (
                                            INTERNET_ADDRESS_GROUP (address)));
      else
        found = tern_identities_find (identities, internet_address_mailbox_get_addr (
                                                    INTERNET_ADDRESS_MAILBOX (address)));
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Delivered-To and X-Original-To, which the receiving server adds (one
 * per hop: all of them are looked at). */
static TernIdentity *
find_in_delivery (GListModel   *identities,
                  GMimeMessage *original)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (GMIME_OBJECT (original));

  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char *name = g_mime_header_get_name (header);
      g_autoptr(InternetAddressList) list = NULL;
      TernIdentity *found;

      if (g_ascii_strcasecmp (name, "Delivered-To") != 0
          && g_ascii_strcasecmp (name, "X-Original-To") != 0)
        continue;
      list = internet_address_list_parse (NULL, g_mime_header_get_value (header));
      found = find_in_list (identities, list);
      if (found != NULL)
        return found;
    }
  return NULL;
}

TernIdentity *
tern_identities_for_message (GListModel   *identities,
                             GMimeMessage *original)
{
  TernIdentity *found;

  g_return_val_if_fail (G_IS_LIST_MODEL (identities), NULL);
  g_return_val_if_fail (GMIME_IS_MESSAGE (original), NULL);

  found = find_in_list (identities, g_mime_message_get_to (original));
  if (found == NULL)
    found = find_in_list (identities, g_mime_message_get_cc (original));
  if (found == NULL)
    found = find_in_delivery (identities, original);
  if (found == NULL)
    found = find_in_list (identities, g_mime_message_get_from (original));
  if (found == NULL && g_list_model_get_n_items (identities) > 0)
    found = g_list_model_get_item (identities, 0);
  return found;
}
