-- bot.lua: a channel bot that answers "!" requests and chimes.
--
--   linecast lua/chat.lua lua/bot.lua
--
-- Say one of these in a channel; the bot answers there, as "bot":
--   !time          lobby <bot> it is 2026-11-22 14:03:12 UTC
--   !uptime        lobby <bot> up 2h 5m 12s, 14 connections, 1 channel
--   !chime on|off  lobby <bot> chime on: every 3600s
--                  then, at the top of every hour: lobby <bot> *chime* 15:00;
--                  !chime off stops them: lobby <bot> chime off: no chimes
--                  here (!chime on to start them); !chime alone tells which
--   !help          what the bot understands
-- The request itself is published as usual; the answer comes after it.
-- Private messages and lines that start otherwise are left alone. The name
-- "bot" is kept for the bot: /nick bot is refused.
--
-- $LINECAST_CHIME_SECONDS changes the chime's period (default 3600; chimes
-- come at multiples of it since the epoch, so 3600 is on the hour). A reload
-- (SIGHUP) forgets which channels want chimes.

local lc = require "linecast"

if lc.is_worker then
	return
end

local BOT = "bot"
local CHIME = tonumber(os.getenv("LINECAST_CHIME_SECONDS")) or 3600

local chimes = {}		-- channel -> true: it asked for chimes

-- "2h 5m 12s"
local function duration(s)
	local d, h, m = s // 86400, s // 3600 % 24, s // 60 % 60
	local out = {}
	if d > 0 then out[#out + 1] = d .. "d" end
	if d > 0 or h > 0 then out[#out + 1] = h .. "h" end
	if d > 0 or h > 0 or m > 0 then out[#out + 1] = m .. "m" end
	out[#out + 1] = s % 60 .. "s"
	return table.concat(out, " ")
end

-- Each request: (channel, argument) -> the answer.
local requests = {}

function requests.time()
	return os.date("it is %Y-%m-%d %H:%M:%S %Z")
end

-- "1 channel", "2 channels"
local function count(n, what)
	return n .. " " .. what .. (n == 1 and "" or "s")
end

function requests.uptime()
	local s = lc.stats()
	return ("up %s, %s, %s"):format(duration(s.uptime),
	    count(s.connections, "connection"), count(s.channels, "channel"))
end

function requests.chime(channel, arg)
	if arg == "on" then
		chimes[channel] = true
	elseif arg == "off" then
		chimes[channel] = nil
	elseif arg ~= "" then
		return "usage: !chime on|off"
	end
	if not chimes[channel] then
		return "chime off: no chimes here (!chime on to start them)"
	end
	return ("chime on: every %ds"):format(CHIME)
end

function requests.help()
	return "I answer !time, !uptime, !chime on|off and !help"
end

-- The publish hook sees every message before it is delivered. Answering
-- right here would deliver the answer before the question, so the answer
-- is published by a timer that fires as soon as this publish is done.
lc.on("publish", function(msg)
	local channel = msg.channel
	if msg.sender == BOT or channel:sub(1, 1) == "@" then
		return
	end
	local word, arg = msg.text:match("^%s*!(%a+)%s*(.-)%s*$")
	local request = word and requests[word:lower()]
	if request then
		local answer = request(channel, arg:lower())
		lc.after(0, function()
			lc.publish(channel, answer, BOT)
		end)
	end
end)

lc.on("nick", function(conn, name)
	if name:lower() == BOT then
		return false, BOT .. " is the bot's name"
	end
end)

-- Chimes in each channel that asked for it and still has members.
local function chime()
	local now = "*chime* " .. os.date("%H:%M")
	for channel in pairs(chimes) do
		if #lc.members(channel) == 0 then
			chimes[channel] = nil
		else
			lc.publish(channel, now, BOT)
		end
	end
end

-- First wait for the next multiple of CHIME, then chime every CHIME s.
lc.after(CHIME - os.time() % CHIME, function()
	chime()
	lc.every(CHIME, chime)
end)
