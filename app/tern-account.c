/* tern-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "tern-account"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tern-account-private.h"
#include "tern-app-error.h"

struct _TernAccount
{
  GObject parent_instance;

  gint64 id;
  char *uuid;
  char *display_name;
  char *address;
  TernAccountProtocol protocol;
  TernServer *incoming;
  TernServer *outgoing;
  char *password_command;
  GPtrArray *retired_servers; /* replaced by _tern_account_set_servers() */
};

G_DEFINE_FINAL_TYPE (TernAccount, tern_account, G_TYPE_OBJECT)

/* g_set_str() arrived in GLib 2.76; Debian 12 has 2.74. */
static gboolean
set_str (char       **field,
         const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

G_DEFINE_ENUM_TYPE (TernAccountProtocol, tern_account_protocol,
                    G_DEFINE_ENUM_VALUE (TERN_ACCOUNT_PROTOCOL_IMAP, "imap"),
                    G_DEFINE_ENUM_VALUE (TERN_ACCOUNT_PROTOCOL_POP3, "pop3"))

enum {
  PROP_0,
  PROP_ID,
  PROP_UUID,
  PROP_DISPLAY_NAME,
  PROP_ADDRESS,
  PROP_PROTOCOL,
  PROP_INCOMING,
  PROP_OUTGOING,
  PROP_PASSWORD_COMMAND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
tern_account_finalize (GObject *object)
{
  TernAccount *self = TERN_ACCOUNT (object);

  g_free (self->uuid);
  g_free (self->display_name);
  g_free (self->address);
  g_clear_pointer (&self->incoming, tern_server_free);
  g_clear_pointer (&self->outgoing, tern_server_free);
  g_free (self->password_command);
  g_clear_pointer (&self->retired_servers, g_ptr_array_unref);

  G_OBJECT_CLASS (tern_account_parent_class)->finalize (object);
}

static void
tern_account_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TernAccount *self = TERN_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;
    case PROP_UUID:
      g_value_set_string (value, self->uuid);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_PROTOCOL:
      g_value_set_enum (value, self->protocol);
      break;
    case PROP_INCOMING:
      g_value_set_boxed (value, self->incoming);
      break;
    case PROP_OUTGOING:
      g_value_set_boxed (value, self->outgoing);
      break;
    case PROP_PASSWORD_COMMAND:
      g_value_set_string (value, self->password_command);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_account_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TernAccount *self = TERN_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_UUID:
      self->uuid = g_value_dup_string (value);
      break;
    case PROP_DISPLAY_NAME:
      tern_account_set_display_name (self, g_value_get_string (value));
      break;
    case PROP_ADDRESS:
      self->address = g_value_dup_string (value);
      break;
    case PROP_PROTOCOL:
      self->protocol = g_value_get_enum (value);
      break;
    case PROP_INCOMING:
      self->incoming = g_value_dup_boxed (value);
      break;
    case PROP_OUTGOING:
      self->outgoing = g_value_dup_boxed (value);
      break;
    case PROP_PASSWORD_COMMAND:
      tern_account_set_password_command (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tern_account_constructed (GObject *object)
{
  TernAccount *self = TERN_ACCOUNT (object);

  G_OBJECT_CLASS (tern_account_parent_class)->constructed (object);

  /* A new account gets its identity here; one loaded from the store
   * brings its own. */
  if (self->uuid == NULL)
    self->uuid = g_uuid_string_random ();

  /* Usernames default to the address, as nearly every provider expects. */
  if (self->incoming != NULL && self->incoming->username == NULL)
    self->incoming->username = g_strdup (self->address);
  if (self->outgoing != NULL && self->outgoing->username == NULL)
    self->outgoing->username = g_strdup (self->address);
}

static void
tern_account_class_init (TernAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags writable = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = tern_account_finalize;
  object_class->get_property = tern_account_get_property;
  object_class->set_property = tern_account_set_property;
  object_class->constructed = tern_account_constructed;

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_UUID] = g_param_spec_string ("uuid", NULL, NULL, NULL, construct);
  properties[PROP_DISPLAY_NAME] = g_param_spec_string ("display-name", NULL, NULL, NULL, writable);
  properties[PROP_ADDRESS] = g_param_spec_string ("address", NULL, NULL, NULL, construct);
  properties[PROP_PROTOCOL] =
    g_param_spec_enum ("protocol", NULL, NULL, TERN_TYPE_ACCOUNT_PROTOCOL,
                       TERN_ACCOUNT_PROTOCOL_IMAP, construct);
  properties[PROP_INCOMING] =
    g_param_spec_boxed ("incoming", NULL, NULL, TERN_TYPE_SERVER, construct);
  properties[PROP_OUTGOING] =
    g_param_spec_boxed ("outgoing", NULL, NULL, TERN_TYPE_SERVER, construct);
  properties[PROP_PASSWORD_COMMAND] =
    g_param_spec_string ("password-command", NULL, NULL, NULL, writable);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tern_account_init (TernAccount *self)
{
  self->retired_servers = g_ptr_array_new_with_free_func ((GDestroyNotify) tern_server_free);
}

TernAccount *
tern_account_new (const char          *display_name,
                  const char          *address,
                  TernAccountProtocol  protocol,
                  const TernServer    *incoming,
                  const TernServer    *outgoing)
{
  return g_object_new (TERN_TYPE_ACCOUNT,
                       "display-name", display_name,
                       "address", address,
                       "protocol", protocol,
                       "incoming", incoming,
                       "outgoing", outgoing,
                       NULL);
}

gint64
tern_account_get_id (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), 0);
  return self->id;
}

void
_tern_account_set_id (TernAccount *self,
                      gint64       id)
{
  if (self->id == id)
    return;
  self->id = id;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

const char *
tern_account_get_uuid (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->uuid;
}

const char *
tern_account_get_display_name (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->display_name;
}

void
tern_account_set_display_name (TernAccount *self,
                               const char  *display_name)
{
  g_return_if_fail (TERN_IS_ACCOUNT (self));

  if (set_str (&self->display_name, display_name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
}

void
_tern_account_set_address (TernAccount *self,
                           const char  *address)
{
  g_return_if_fail (TERN_IS_ACCOUNT (self));

  if (set_str (&self->address, address))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
}

void
_tern_account_set_servers (TernAccount      *self,
                           const TernServer *incoming,
                           const TernServer *outgoing)
{
  g_return_if_fail (TERN_IS_ACCOUNT (self));
  g_return_if_fail (incoming != NULL);

  /* A sync on a worker thread may hold the old pointers: they go with the
   * account, not now. */
  if (self->incoming != NULL)
    g_ptr_array_add (self->retired_servers, self->incoming);
  if (self->outgoing != NULL)
    g_ptr_array_add (self->retired_servers, self->outgoing);
  self->incoming = tern_server_copy (incoming);
  self->outgoing = outgoing != NULL ? tern_server_copy (outgoing) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCOMING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTGOING]);
}

const char *
tern_account_get_address (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->address;
}

TernAccountProtocol
tern_account_get_protocol (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), TERN_ACCOUNT_PROTOCOL_IMAP);
  return self->protocol;
}

const TernServer *
tern_account_get_incoming (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->incoming;
}

const TernServer *
tern_account_get_outgoing (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->outgoing;
}

const char *
tern_account_get_password_command (TernAccount *self)
{
  g_return_val_if_fail (TERN_IS_ACCOUNT (self), NULL);
  return self->password_command;
}

void
tern_account_set_password_command (TernAccount *self,
                                   const char  *command)
{
  g_return_if_fail (TERN_IS_ACCOUNT (self));

  if (command != NULL && *command == '\0')
    command = NULL;
  if (set_str (&self->password_command, command))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PASSWORD_COMMAND]);
}

const char *
tern_account_protocol_to_string (TernAccountProtocol protocol)
{
  GEnumClass *klass = g_type_class_ref (TERN_TYPE_ACCOUNT_PROTOCOL);
  GEnumValue *value = g_enum_get_value (klass, protocol);

  g_type_class_unref (klass);
  return value ? value->value_nick : NULL;
}

static gboolean
validate_server (const TernServer  *server,
                 GError           **error)
{
  if (server->host == NULL || *server->host == '\0' || strpbrk (server->host, " \t\r\n/") != NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not a valid server name"), server->host ? server->host : "");
      return FALSE;
    }
  if (server->port == 0)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("The port of %s is missing"), server->host);
      return FALSE;
    }
  return TRUE;
}

gboolean
tern_account_validate (TernAccount  *self,
                       GError      **error)
{
  const char *at;

  g_return_val_if_fail (TERN_IS_ACCOUNT (self), FALSE);

  at = self->address ? strchr (self->address, '@') : NULL;
  if (at == NULL || at == self->address || at[1] == '\0' || strchr (at + 1, '@') != NULL ||
      strpbrk (self->address, " \t\r\n<>") != NULL)
    {
      g_set_error (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                   _("“%s” is not an email address"), self->address ? self->address : "");
      return FALSE;
    }
  if (self->incoming == NULL)
    {
      g_set_error_literal (error, TERN_APP_ERROR, TERN_APP_ERROR_INVALID,
                           _("The account has no incoming server"));
      return FALSE;
    }
  return validate_server (self->incoming, error) &&
         (self->outgoing == NULL || validate_server (self->outgoing, error));
}
