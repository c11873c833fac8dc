-- auth.lua: names with passwords.
--
--   LINECAST_PASSWD=/etc/linecast/passwd linecast lua/auth.lua lua/chat.lua
--
-- The password file has one "name:password" a line ("#" starts a comment).
-- It is the file named by $LINECAST_PASSWD, else "passwd" in the working
-- directory, else "passwd" next to this script. It is read when the script
-- loads: edit it, then send SIGHUP. Passwords are kept in clear, so keep the
-- file private (chmod 600); this is an example, not a user database.
--
-- A name listed there is registered; anyone may take any other name.
--   * On connect the server asks, before +HELLO:
--       * login: NAME PASSWORD, or NAME, or an empty line for a guest name
--     and reads one line (30 s, or $LINECAST_LOGIN_TIMEOUT): "alice secret"
--     logs in as alice, "bob" takes the unregistered name bob, an empty
--     line keeps the guest name. A failure says "* login failed: WHY" and
--     asks again; the third failure, or no answer in time, refuses the
--     connection (-ERR refused ...). Programs that know no password answer
--     the prompt with an empty line. A password given with a name that is
--     not registered is a failure too ("bob is not registered"): whoever
--     gives one believes the name is theirs, and must learn that nothing
--     was checked.
--   * Over TLS with --tls-ca, a client certificate whose subject has
--     CN=NAME for a registered NAME logs in as NAME with no prompt: the
--     CA vouched for it.
--   * "/nick NAME PASSWORD" takes a registered name later (+NICK NAME).
--     That line never reaches the core or the scripts after this one, so
--     list auth.lua first on the command line. For a NAME that is not
--     registered it is refused, for the same reason as above:
--       -ERR forbidden bob is not registered: /nick bob takes it
--   * "/nick NAME" for a registered name is refused:
--       -ERR forbidden alice is registered: /nick alice PASSWORD
-- Every login, failed login and password /nick is logged at info, with
-- the connection's address (never the password).
-- Every failed password costs its connection a second (the input waits, no
-- one else does), which slows down guessing.
-- Do not register "guestN" names: the server gives those to newcomers.

local lc = require "linecast"

-- A worker thread's state has nothing to do here (no lc.worker functions).
if lc.is_worker then
	return
end

local LOGIN_TIMEOUT = tonumber(os.getenv("LINECAST_LOGIN_TIMEOUT")) or 30
local TRIES = 3
local FAIL_DELAY = 1
local PROMPT = "* login: NAME PASSWORD, or NAME, or an empty line for a "
    .. "guest name"

-- The directory this script was loaded from, with its "/".
local function script_dir()
	local source = debug.getinfo(1, "S").source
	return source:match("^@(.*/)") or "./"
end

local function exists(path)
	local f = io.open(path, "r")
	if f then
		f:close()
	end
	return f ~= nil
end

-- Reads the password file into lower-case name -> {name =, password =}.
local function load_users()
	local path = os.getenv("LINECAST_PASSWD")
	if not path then
		for _, p in ipairs({ "passwd", script_dir() .. "passwd" }) do
			if exists(p) then
				path = p
				break
			end
		end
	end
	local users, n = {}, 0
	if not path then
		lc.log("warn", "auth.lua: no passwd file (set LINECAST_PASSWD):"
		    .. " no name is registered")
		return users
	end
	-- An explicit file that cannot be read stops the (re)load.
	local f = assert(io.open(path, "r"))
	local lineno = 0
	for line in f:lines() do
		lineno = lineno + 1
		line = line:gsub("\r$", "")
		if not line:match("^%s*#") and line:match("%S") then
			local name, password = line:match("^([%w_][%w_-]*):(.+)$")
			if name and #name <= 32 then
				users[name:lower()] = { name = name,
				    password = password }
				n = n + 1
			else
				lc.log("warn", ("auth.lua: %s:%d: not name:password")
				    :format(path, lineno))
			end
		end
	end
	f:close()
	lc.log("info", ("auth.lua: %d registered names from %s"):format(n, path))
	return users
end

local users = load_users()

-- Compares two strings in a time that does not depend on where they
-- differ.
local function same(a, b)
	if #a ~= #b then
		return false
	end
	local diff = 0
	for i = 1, #a do
		diff = diff | (a:byte(i) ~ b:byte(i))
	end
	return diff == 0
end

-- Logs an authentication outcome at info: what, who, from where.
local function audit(conn, what, name)
	lc.log("info", ("auth.lua: %s name=%s conn=%d addr=%s"):format(what,
	    name, conn.id, conn.addr))
end

-- Handles an answer to the login prompt. Returns true, or nil and why.
local function login(conn, answer)
	local name, password = answer:match("^%s*(%S+)%s*(.-)%s*$")
	if not name then
		return true		-- an empty line: stay a guest
	end
	local user = users[name:lower()]
	if user and password == "" then
		return nil, user.name .. " is registered, give its password"
	end
	if not user and password ~= "" then
		return nil, ("%s is not registered (answer %s alone to take it)")
		    :format(name, name)
	end
	if user and not same(password, user.password) then
		audit(conn, "bad password", user.name)
		return nil, "bad password for " .. user.name
	end
	local ok, err = conn:rename(user and user.name or name)
	if not ok then
		return nil, err .. " " .. name
	end
	if user then
		audit(conn, "login", user.name)
	end
	return true
end

-- Logs in a client whose verified certificate names a registered user.
-- Returns true if it did.
local function login_by_cert(conn)
	local cn = conn.cert and conn.cert:match("CN=([%w_-]+)")
	local user = cn and users[cn:lower()]
	if not user or not conn:rename(user.name) then
		return false
	end
	audit(conn, "login by certificate", user.name)
	return true
end

lc.on("connect", function(conn)
	if login_by_cert(conn) then
		return
	end
	for try = 1, TRIES do
		conn:send(PROMPT)
		local answer, err = conn:read(LOGIN_TIMEOUT)
		if not answer then
			-- "closed": the client left, there is nobody to tell.
			return false, err == "timeout" and "login timeout" or err
		end
		local ok, why = login(conn, answer)
		if ok then
			return
		end
		conn:send("* login failed: " .. why)
		lc.sleep(FAIL_DELAY)
	end
	audit(conn, "refused after " .. TRIES .. " failed logins", conn.name)
	return false, "login failed"
end)

-- "/nick NAME PASSWORD" (any case of "nick"), handled here so that the
-- password goes no further.
lc.on("line", function(conn, line)
	local cmd, name, password = line:match("^/(%a+) +(%S+) +(.-)%s*$")
	if not cmd or cmd:lower() ~= "nick" or password == "" then
		return
	end
	local user = users[name:lower()]
	if not user then
		conn:send(("-ERR forbidden %s is not registered: /nick %s takes it")
		    :format(name, name))
		return false
	end
	if not same(password, user.password) then
		audit(conn, "bad password in /nick", user.name)
		lc.sleep(FAIL_DELAY)
		conn:send("-ERR forbidden bad password for " .. user.name)
		return false
	end
	local ok, err = conn:rename(user.name)
	if ok then
		audit(conn, "login by /nick", user.name)
	end
	conn:send(ok and "+NICK " .. user.name
	    or ("-ERR %s %s"):format(err, user.name))
	return false
end)

-- "/nick NAME" without a password: registered names are refused (a case
-- change of one's own name is fine).
lc.on("nick", function(conn, name)
	local user = users[name:lower()]
	if user and name:lower() ~= conn.name:lower() then
		return false, ("%s is registered: /nick %s PASSWORD")
		    :format(user.name, user.name)
	end
end)
