-- chat.lua: the everyday chat room.
--
--   linecast lua/chat.lua
--
-- Adds to the plain broker:
--   * a message of the day on connect (edit MOTD below);
--   /me ACTION     an action, as on IRC: "/me waves" tells the other
--                  members of the current channel "* action lobby alice
--                  waves" (an event like "* join", not a message: history
--                  does not keep it, and subscribers who are not members
--                  do not get it);
--   /topic [TEXT]  show or set the topic of the current channel
--                  ("/topic -" clears it);
--   /seen NAME     when NAME was last around.
--
-- Wire format of what it adds (each line starts as doc/protocol.md says:
-- "+" a reply, "-ERR " an error, "* " an event):
--   /me ACTION     -> +ME CHANNEL TOLD (how many members were told); the
--                     others get "* action CHANNEL NAME ACTION"
--   /topic         -> +TOPIC CHANNEL SETTER TEXT    (+TOPIC CHANNEL if none)
--   /topic TEXT    -> +TOPIC CHANNEL NAME TEXT; the other members get
--                     "* topic CHANNEL NAME TEXT" (no TEXT: it was cleared)
--   /join CHANNEL  -> "* topic CHANNEL SETTER TEXT" right before +JOIN, if
--                     the channel has a topic (the default channel's topic
--                     comes after the MOTD, before +HELLO)
--   /seen NAME     -> +SEEN NAME online | +SEEN NAME 42s ago
--                     | -ERR no-such-name never seen NAME
--
-- Topics and "seen" times live in this script's memory: a restart or a
-- reload (SIGHUP) forgets them. With scripts that may refuse a join or a
-- connection (auth.lua...), list chat.lua after them, so that nobody gets a
-- topic or the MOTD for a join or a connection that is then refused.

local lc = require "linecast"

-- The message of the day, one "* " line each. {name} becomes the new
-- connection's name, {version} the server's version.
local MOTD = {
	"Welcome to linecast {version}, {name}.",
	"Type a line to talk; /nick NAME picks a name, /join CHANNEL changes",
	"the room, /me waves, /topic, /seen NAME, /who, /help, /quit.",
}

local MAX_TOPICS = 1000		-- topics kept (those of empty channels go)
local MAX_SEEN = 10000		-- names remembered by /seen (oldest go)

local topics = {}		-- channel -> {text =, by =, at =}
local ntopics = 0
local seen = {}			-- lower-case name -> {name =, at =}
local nseen = 0

-- The "* topic" line of a channel, or nil if it has none.
local function topic_line(channel)
	local t = topics[channel]
	if t then
		return ("* topic %s %s %s"):format(channel, t.by, t.text)
	end
end

-- Topics reach other people's terminals by conn:send, which sends bytes as
-- they are: control bytes become "?", as the core does for published text.
local function clean(text)
	if lc.config.allow_control then
		return text
	end
	return (text:gsub("[\0-\8\10-\31\127]", "?"))
end

-- Sends a line to every member of a channel but one name. Returns how
-- many were told.
local function tell_members(channel, line, except)
	local n = 0
	for _, name in ipairs(lc.members(channel)) do
		local c = name ~= except and lc.find(name)
		if c and c:send(line) then
			n = n + 1
		end
	end
	return n
end

-- MOTD, then the topic of the channel about to be joined.
lc.on("connect", function(conn)
	for _, l in ipairs(MOTD) do
		conn:send("* " .. l:gsub("{(%w+)}", {
			name = conn.name,
			version = lc.version,
		}))
	end
	local default = lc.config.default_channel
	local line = default ~= "" and topic_line(default)
	if line then
		conn:send(line)
	end
end)

-- A /join shows the topic. The join hook runs before the core joins, so
-- the topic line comes right before +JOIN (returning nothing allows it).
lc.on("join", function(conn, channel)
	local line = topic_line(channel)
	if line then
		conn:send(line)
	end
end)

lc.command("me", function(conn, action)
	local channel = conn.channel
	if not channel then
		return "-ERR no-channel /join a channel first"
	end
	action = clean(action:match("^%s*(.-)%s*$"))
	if action == "" then
		return "-ERR bad-args usage: /me ACTION"
	end
	local n = tell_members(channel, ("* action %s %s %s"):format(channel,
	    conn.name, action), conn.name)
	return ("+ME %s %d"):format(channel, n)
end, "ACTION: tell the channel what you do (/me waves)")

-- Forgets the topics of channels that nobody is in.
local function prune_topics()
	for channel in pairs(topics) do
		if #lc.members(channel) == 0 then
			topics[channel] = nil
			ntopics = ntopics - 1
		end
	end
end

lc.command("topic", function(conn, text)
	local channel = conn.channel
	if not channel then
		return "-ERR no-channel /join a channel first"
	end
	text = clean((text:gsub("%s+$", "")))
	if text == "" then
		local t = topics[channel]
		if not t then
			return "+TOPIC " .. channel
		end
		return ("+TOPIC %s %s %s"):format(channel, t.by, t.text)
	end
	if text == "-" then
		if topics[channel] then
			topics[channel] = nil
			ntopics = ntopics - 1
		end
		tell_members(channel, ("* topic %s %s"):format(channel,
		    conn.name), conn.name)
		return "+TOPIC " .. channel
	end
	if not topics[channel] then
		if ntopics >= MAX_TOPICS then
			prune_topics()
		end
		if ntopics >= MAX_TOPICS then
			return "-ERR busy too many topics"
		end
		ntopics = ntopics + 1
	end
	topics[channel] = { text = text, by = conn.name, at = os.time() }
	tell_members(channel, topic_line(channel), conn.name)
	return ("+TOPIC %s %s %s"):format(channel, conn.name, text)
end, "[TEXT]: show or set the current channel's topic (- clears it)")

-- Remembers that a name was around now.
local function saw(name)
	local key = name:lower()
	if not seen[key] then
		if nseen >= MAX_SEEN then
			-- Forget the older half, in one go.
			local all = {}
			for k, s in pairs(seen) do
				all[#all + 1] = { k = k, at = s.at }
			end
			table.sort(all, function(a, b) return a.at < b.at end)
			for i = 1, #all // 2 do
				seen[all[i].k] = nil
			end
			nseen = nseen - #all // 2
		end
		nseen = nseen + 1
	end
	seen[key] = { name = name, at = os.time() }
end

-- Every line counts as a sign of life, under the name it was typed with
-- (a "/nick bob" line records the old name too).
lc.on("line", function(conn, line)
	saw(conn.name)
end)

lc.on("disconnect", function(conn, reason)
	saw(conn.name)
end)

-- "42s ago", "5m ago", "3h ago", "2d ago".
local function ago(seconds)
	if seconds < 60 then
		return seconds .. "s ago"
	elseif seconds < 3600 then
		return seconds // 60 .. "m ago"
	elseif seconds < 86400 then
		return seconds // 3600 .. "h ago"
	end
	return seconds // 86400 .. "d ago"
end

lc.command("seen", function(conn, args)
	local name = args:match("^(%S+)%s*$")
	if not name then
		return "-ERR bad-args usage: /seen NAME"
	end
	local c = lc.find(name)
	if c then
		return ("+SEEN %s online"):format(c.name)
	end
	local s = seen[name:lower()]
	if not s then
		return "-ERR no-such-name never seen " .. name
	end
	return ("+SEEN %s %s"):format(s.name, ago(os.time() - s.at))
end, "NAME: when NAME was last around")
