--
-- directory.lua: Dovecot's passdb and userdb over the lookup table lookup_logins_v2 (contract v2)
--
-- Why Lua and not Dovecot's sql driver: measured with Dovecot 2.3.19 on MariaDB and
-- PostgreSQL, the sql driver's connection pool turns a database restart into lost mail
-- and wrong answers: while its connection is gone it escapes the address to an empty
-- string and answers "user unknown" (LMTP then says 550 and Exim bounces the mail);
-- it holds every lookup up to 60 s waiting for a connection, and retries a lost
-- database after 1, 5, 25 and 125 s, so logins fail for minutes after the database is
-- back. Here each auth worker keeps one connection, opens a new one at once when it is
-- gone, and answers a temporary failure as soon as the database cannot be reached:
-- never "unknown" for a fault, and working again with the first lookup after it returns.
--
-- The values in @@...@@ come from the project's settings (`manage.py render_mailconfig`).
-- Keep this file private (0640 root:dovecot): it holds the Dovecot lookup user's password.

-- The database servers, tried in this order: the mail host's replicas, nearest first, then the
-- primary (MAIL_LOOKUP_REPLICA_URLS, MAIL_LOOKUP_DATABASE_URL). Each is a MariaDB/MySQL socket or
-- host, a PostgreSQL socket directory or host, or (SQLite) the database file in `database`.
local DRIVER = "@@LUA_DRIVER@@"
local SERVERS = @@LUA_SERVERS@@
local USER, PASSWORD = "@@LUA_USER@@", "@@LUA_PASSWORD@@"
-- Seconds to wait for the database before answering a temporary failure.
local TIMEOUT = @@LOOKUP_TIMEOUT@@
-- While a later server stands in for an earlier one that failed, the earlier one is tried again
-- after this many seconds (a replica that is back takes its reads back from the primary).
local PREFER_AGAIN = 30
local STORE = "@@STORE@@"

local luasql = require("luasql." .. DRIVER)
-- The queries, one read of the table's row by its primary key each ('%s': the quoted address).
local PASSDB_QUERY = "SELECT address, password, login_allowed, maildir, quota_rule, app_passwords_only, imap, pop3, smtp, sieve FROM lookup_logins_v2 WHERE address = '%s'"
-- App passwords (accounts/apppasswords.py): 36 characters of base32 as typed (dashes and spaces
-- dropped, any case), whose first 8 are the key id: the one row the password can be is read by
-- it, so a login costs the same whatever the number of app passwords of the mailbox.
local APP_PASSWORD_QUERY = "SELECT address, password, imap, pop3, smtp, sieve FROM lookup_app_passwords_v2 WHERE key_id = '%s'"
local APP_PASSWORD_CHARS, APP_KEY_CHARS = 36, 8
-- The last use is written at most this often per app password (one UPDATE that changes no row
-- otherwise), to the primary; Dovecot's user may update that one column and nothing else.
local APP_PASSWORD_USED = "UPDATE accounts_apppassword SET last_used_at = %s WHERE key_id = '%s' AND (last_used_at IS NULL OR last_used_at < %s)"
local USED_EVERY = 300
-- The protocol a mailbox (its imap, pop3, smtp, sieve columns) and an app password must allow, by
-- the Dovecot service asking (Exim's dovecot authenticator asks as "smtp"; ManageSieve as "sieve").
-- An app password allows no other service; a main password's other services (doveadm) are not
-- mail programs and are not limited.
local PROTOCOL_OF = { imap = "imap", pop3 = "pop3", smtp = "smtp", submission = "smtp", sieve = "sieve" }
local USERDB_QUERY = "SELECT maildir, quota_rule FROM lookup_logins_v2 WHERE address = '%s'"
local ITERATE_QUERY = "SELECT address FROM lookup_logins_v2"

local env = luasql[DRIVER]()
-- The connection reads go to, which entry of SERVERS it is and since when; a connection to the
-- primary for writes, when reads go to a replica.
local conn, conn_index, conn_since = nil, 0, 0
local primary_conn = nil

local function connect_to(server)
  if DRIVER == "mysql" then
    if server.socket ~= "" then
      return env:connect(server.database, USER, PASSWORD, nil, 0, server.socket)
    end
    return env:connect(server.database, USER, PASSWORD, server.host, server.port)
  elseif DRIVER == "postgres" then
    return env:connect(string.format(
      "host=%s port=%d dbname=%s user=%s password=%s connect_timeout=%d options='-c statement_timeout=%d'",
      server.socket ~= "" and server.socket or server.host, server.port, server.database, USER, PASSWORD,
      TIMEOUT, TIMEOUT * 1000))
  end
  return env:connect(server.database)
end

-- The first server of SERVERS that answers, and its index; nil and every server's error if none does.
local function connect()
  local errors = {}
  for index, server in ipairs(SERVERS) do
    local c, err = connect_to(server)
    if c ~= nil then
      return c, index
    end
    errors[#errors + 1] = "server " .. index .. ": " .. tostring(err)
  end
  return nil, table.concat(errors, "; ")
end

-- Run `query` (a format with one %s, filled with the escaped `key`) and return every row
-- as a table of named columns. A connection that has gone away is replaced once at once;
-- when the database cannot be reached this raises an error, which Dovecot answers as a
-- temporary failure (IMAP "[UNAVAILABLE]", LMTP 4xx), never as "no such user".
local function select_rows(query, key)
  local last_error
  if conn ~= nil and conn_index > 1 and os.time() - conn_since >= PREFER_AGAIN then
    pcall(conn.close, conn)  -- standing in for an earlier server long enough: try that one again
    conn = nil
  end
  for _ = 1, 2 do
    if conn == nil then
      local index_or_err
      conn, index_or_err = connect()
      if conn == nil then
        error("directory unreachable: " .. tostring(index_or_err))
      end
      conn_index, conn_since = index_or_err, os.time()
    end
    local sql = key and string.format(query, conn:escape(key)) or query
    local cur, err = conn:execute(sql)
    if cur then
      local rows, row = {}, cur:fetch({}, "a")
      while row do
        rows[#rows + 1] = row
        row = cur:fetch({}, "a")
      end
      cur:close()
      return rows
    end
    last_error = err
    pcall(conn.close, conn)
    conn = nil
  end
  error("directory lookup failed: " .. tostring(last_error))
end

-- A UTC time as a literal the database compares with the column Django writes.
local function utc_literal(t)
  local text = os.date("!%Y-%m-%d %H:%M:%S", t)
  if DRIVER == "postgres" then
    return "'" .. text .. "+00'"
  end
  return "'" .. text .. "'"
end

-- Record an app password's use, on the primary (the last entry of SERVERS). Best effort: a
-- primary that cannot be reached, a read-only SQLite file or a busy database leaves the last use
-- older, never fails the login.
local function note_use(req, key_id)
  local now = os.time()
  local ok, result, err = pcall(function()
    local writer = conn
    if conn_index ~= #SERVERS then
      if primary_conn == nil then
        primary_conn = assert(connect_to(SERVERS[#SERVERS]))
      end
      writer = primary_conn
    end
    return writer:execute(string.format(APP_PASSWORD_USED, utc_literal(now), writer:escape(key_id), utc_literal(now - USED_EVERY)))
  end)
  if not ok or result == nil then
    req:log_warning("could not record the app password's last use: " .. tostring(ok and err or result))
    if primary_conn ~= nil then
      pcall(primary_conn.close, primary_conn)
      primary_conn = nil
    end
  end
end

-- The canonical form of an app password as typed, or nil when it cannot be one.
local function app_password_form(pass)
  local typed = pass:lower():gsub("[%s%-]", "")
  if #typed ~= APP_PASSWORD_CHARS or typed:find("[^a-z2-7]") then
    return nil
  end
  return typed
end

-- The mailbox's row of lookup_logins_v2, or nil and the answer to a login it cannot have: no such
-- mailbox, logins off (mailbox, domain), or the protocol asking switched off for the mailbox.
local function login_row(req)
  local row = select_rows(PASSDB_QUERY, req.user)[1]
  if row == nil then
    return nil, dovecot.auth.PASSDB_RESULT_USER_UNKNOWN
  end
  local protocol = PROTOCOL_OF[req.service]
  if tonumber(row.login_allowed) ~= 1 or (protocol ~= nil and tonumber(row[protocol]) ~= 1) then
    return nil, dovecot.auth.PASSDB_RESULT_USER_DISABLED
  end
  return row
end

local function login_fields(row)
  -- The userdb fields come with the password (10-auth.conf's prefetch userdb): an IMAP or
  -- POP3 login reads the directory once, and a database that goes away between the
  -- password check and the session's start cannot fail a login that has already succeeded.
  return { user = row.address, userdb_home = STORE .. "/" .. row.maildir, userdb_quota_rule = row.quota_rule }
end

-- Every plain-text login (IMAP, POP3, ManageSieve, and Exim's SMTP AUTH through the auth socket):
-- an active app password allowing the protocol asking, or else the main password unless the
-- domain requires app passwords. The checks run here, in an auth worker, so the slow main-password
-- hashes (Argon2) are verified by several processes at once.
function auth_password_verify(req, pass)
  local row, refused = login_row(req)
  if row == nil then
    return refused, ""
  end
  local typed = app_password_form(pass)
  if typed ~= nil then
    local key_id = typed:sub(1, APP_KEY_CHARS)
    local app = select_rows(APP_PASSWORD_QUERY, key_id)[1]
    if app ~= nil and app.address == row.address and req:password_verify(app.password, typed) == 1 then
      local protocol = PROTOCOL_OF[req.service]
      if protocol == nil or tonumber(app[protocol]) ~= 1 then
        req:log_info("app password not allowed for " .. tostring(req.service))
        return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
      end
      note_use(req, key_id)
      return dovecot.auth.PASSDB_RESULT_OK, login_fields(row)
    end
  end
  if tonumber(row.app_passwords_only) == 1 then
    req:log_info("the domain requires app passwords: the main password does not log in to " .. tostring(req.service))
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
  end
  if req:password_verify(row.password, pass) == 1 then
    return dovecot.auth.PASSDB_RESULT_OK, login_fields(row)
  end
  return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, ""
end

-- Lookups without a password to verify (``doveadm auth lookup``, credentials mechanisms): the
-- stored main password and the userdb fields.
function auth_passdb_lookup(req)
  local row, refused = login_row(req)
  if row == nil then
    return refused, ""
  end
  local fields = login_fields(row)
  fields.password = row.password
  return dovecot.auth.PASSDB_RESULT_OK, fields
end

function auth_userdb_lookup(req)
  local row = select_rows(USERDB_QUERY, req.user)[1]
  if row == nil then
    if req.service == "lmtp" then
      -- Exim only delivers to an address it has just found in the directory: if this
      -- lookup disagrees (a replica behind, a mailbox changing), the sender retries later.
      error("not in the directory now: " .. req.user)
    end
    return dovecot.auth.USERDB_RESULT_USER_UNKNOWN, ""
  end
  return dovecot.auth.USERDB_RESULT_OK, { home = STORE .. "/" .. row.maildir, quota_rule = row.quota_rule }
end

function auth_userdb_iterate()
  local users = {}
  for _, row in ipairs(select_rows(ITERATE_QUERY, nil)) do
    users[#users + 1] = row.address
  end
  return users
end

function script_init()
  return 0
end

function script_deinit()
  if conn ~= nil then
    pcall(conn.close, conn)
  end
  if primary_conn ~= nil then
    pcall(primary_conn.close, primary_conn)
  end
end
