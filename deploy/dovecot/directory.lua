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

-- Where the database is: a MariaDB/MySQL socket or host, a PostgreSQL socket directory or
-- host, or (SQLite) the database file in DATABASE.
local DRIVER = "@@LUA_DRIVER@@"
local DATABASE, USER, PASSWORD = "@@LUA_DATABASE@@", "@@LUA_USER@@", "@@LUA_PASSWORD@@"
local HOST, PORT, SOCKET = "@@LUA_HOST@@", @@LUA_PORT@@, "@@LUA_SOCKET@@"
-- Seconds to wait for the database before answering a temporary failure.
local TIMEOUT = @@LOOKUP_TIMEOUT@@
local STORE = "@@STORE@@"

local luasql = require("luasql." .. DRIVER)
-- The queries, one read of the table's row by its primary key each ('%s': the quoted address).
local PASSDB_QUERY = "SELECT address, password, login_allowed, maildir, quota_rule FROM lookup_logins_v2 WHERE address = '%s'"
local USERDB_QUERY = "SELECT maildir, quota_rule FROM lookup_logins_v2 WHERE address = '%s'"
local ITERATE_QUERY = "SELECT address FROM lookup_logins_v2"

local env = luasql[DRIVER]()
local conn = nil

local function connect()
  if DRIVER == "mysql" then
    if SOCKET ~= "" then
      return env:connect(DATABASE, USER, PASSWORD, nil, 0, SOCKET)
    end
    return env:connect(DATABASE, USER, PASSWORD, HOST, PORT)
  elseif DRIVER == "postgres" then
    return env:connect(string.format(
      "host=%s port=%d dbname=%s user=%s password=%s connect_timeout=%d options='-c statement_timeout=%d'",
      SOCKET ~= "" and SOCKET or HOST, PORT, DATABASE, USER, PASSWORD, TIMEOUT, TIMEOUT * 1000))
  end
  return env:connect(DATABASE)
end

-- Run `query` (a format with one %s, filled with the escaped `key`) and return every row
-- as a table of named columns. A connection that has gone away is replaced once at once;
-- when the database cannot be reached this raises an error, which Dovecot answers as a
-- temporary failure (IMAP "[UNAVAILABLE]", LMTP 4xx), never as "no such user".
local function select_rows(query, key)
  local last_error
  for _ = 1, 2 do
    if conn == nil then
      local err
      conn, err = connect()
      if conn == nil then
        error("directory unreachable: " .. tostring(err))
      end
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

function auth_passdb_lookup(req)
  local rows = select_rows(PASSDB_QUERY, req.user)
  local row = rows[1]
  if row == nil then
    return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, ""
  end
  if tonumber(row.login_allowed) ~= 1 then
    return dovecot.auth.PASSDB_RESULT_USER_DISABLED, ""
  end
  -- The userdb fields come with the password (10-auth.conf's prefetch userdb): an IMAP or
  -- POP3 login reads the directory once, and a database that goes away between the
  -- password check and the session's start cannot fail a login that has already succeeded.
  return dovecot.auth.PASSDB_RESULT_OK, {
    user = row.address, password = row.password,
    userdb_home = STORE .. "/" .. row.maildir, userdb_quota_rule = row.quota_rule,
  }
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
end
