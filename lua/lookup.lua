-- lookup.lua: /whois NAME, with the host name of the peer's address.
--
--   linecast lua/lookup.lua
--
--   /whois NAME   -> +WHOIS NAME ADDR HOST
--                  | -ERR no-such-name NAME
--                  | -ERR bad-args usage: /whois NAME
--
-- ADDR is the connection's address as the server sees it ("ip:port",
-- "[ip]:port" for IPv6, "unix" for a Unix socket). HOST is the first
-- name `getent hosts IP` gives (so /etc/hosts, DNS, whatever nsswitch.conf
-- says), or the IP itself when it has none or the lookup fails ("local"
-- for a Unix socket). NAME in the reply is the name as it is spelled now
-- (after the lookup, if the connection was renamed meanwhile).
--
-- The lookup blocks (a DNS query may take seconds), so it runs on the
-- thread pool through lc.blocking: the asking connection waits for its
-- reply, nobody else does. The address is checked strictly (digits and
-- dots, or hex digits, colons and dots for IPv6) before it goes near a
-- shell, in the main state and again in the worker.

local lc = require "linecast"

-- Returns the IP of an "ip:port" or "[ip]:port" address if it is a plain
-- IPv4 or IPv6 address, else nil.
local function ip_of(addr)
	local a, b, c, d = addr:match("^(%d+)%.(%d+)%.(%d+)%.(%d+):%d+$")
	if a then
		for _, octet in ipairs({ a, b, c, d }) do
			if #octet > 3 or tonumber(octet) > 255 then
				return nil
			end
		end
		return ("%s.%s.%s.%s"):format(a, b, c, d)
	end
	local ip6 = addr:match("^%[([%x:.]+)%]:%d+$")
	if ip6 and #ip6 <= 45 and ip6:find(":", 1, true) then
		return ip6
	end
	return nil
end

-- lookup_host(ip): the host name of an IP, or nil. Runs on a worker.
lc.worker("lookup_host", function(ip)
	if ip_of(ip:find(":", 1, true) and "[" .. ip .. "]:0" or ip .. ":0")
	    ~= ip then
		error("lookup.lua: not an IP address: " .. ip, 0)
	end
	local p = assert(io.popen("getent hosts " .. ip .. " 2>/dev/null"))
	local out = p:read("a") or ""
	p:close()
	return out:match("^%S+%s+(%S+)")
end)

if lc.is_worker then
	return
end

-- /whois NAME
lc.command("whois", function(conn, args)
	local name = args:match("^(%S+)%s*$")
	if not name then
		return "-ERR bad-args usage: /whois NAME"
	end
	local who = lc.find(name)
	if not who then
		return "-ERR no-such-name " .. name
	end
	name = who.name
	local addr = who.addr
	local ip = ip_of(addr)
	local host
	if addr == "unix" then
		host = "local"
	elseif ip then
		local ok, h = pcall(lc.blocking, "lookup_host", ip)
		if not ok then
			lc.log("warn", "lookup.lua: lookup of", ip, "failed:", h)
		end
		host = ok and h or nil
	end
	-- The lookup took a while: who may have been renamed or be gone.
	return ("+WHOIS %s %s %s"):format(who.name or name, addr,
	    host or ip or addr)
end, "/whois NAME - the address and host name of a connection")
