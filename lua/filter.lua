-- filter.lua: masks words in published text.
--
--   linecast lua/filter.lua lua/chat.lua
--   LINECAST_FILTER_WORDS=/etc/linecast/words linecast lua/filter.lua
--
-- Every publish (channel lines, /pub, /msg, script publishes) goes through
-- it before fan-out, and so do the topics and actions of chat.lua (/topic,
-- /me; list filter.lua before chat.lua): each listed word, in any case, as
-- a whole word, becomes as many "*" as it has characters:
--   "what the Heck"  ->  "what the ****"      but "heckle" stays.
-- A word is a run of letters, digits, "_" and UTF-8 characters, so "heck's"
-- and "heck-heck" are masked, "heckler", "heck_x" and "hecké" are not.
-- Case is ignored for ASCII letters only.
--
-- The words are WORDS below, plus those of the file named by
-- $LINECAST_FILTER_WORDS (one a line, "#" starts a comment). A SIGHUP
-- reloads both.

local lc = require "linecast"

if lc.is_worker then
	return
end

local WORDS = {
	"heck", "darn", "frak",
}

local banned = {}		-- lower-case word -> true
for _, w in ipairs(WORDS) do
	banned[w:lower()] = true
end

local file = os.getenv("LINECAST_FILTER_WORDS")
if file then
	local n = 0
	for line in assert(io.lines(file)) do
		local w = line:match("^%s*([^#%s]+)")
		if w then
			banned[w:lower()] = true
			n = n + 1
		end
	end
	lc.log("info", ("filter.lua: %d words from %s"):format(n, file))
end

-- A word: letters, digits, "_" and bytes 0x80-0xFF (UTF-8 sequences).
local WORD = "[%w_\128-\255]+"

-- The number of characters of a word (bytes if it is not valid UTF-8).
local function width(w)
	return utf8.len(w) or #w
end

-- Returns text with the listed words masked, or nil if it has none.
local function mask(text)
	local masked = 0
	text = text:gsub(WORD, function(w)
		if banned[w:lower()] then
			masked = masked + 1
			return ("*"):rep(width(w))
		end
	end)
	if masked > 0 then
		return text
	end
end

lc.on("publish", function(msg)
	return mask(msg.text)		-- nil (no change) spares a copy
end)

-- chat.lua's /topic TEXT and /me ACTION reach people as events, not as
-- publishes: their text is masked in the line, before the command runs.
local EVENT_COMMANDS = { topic = true, me = true }
lc.on("line", function(conn, line)
	local cmd, rest = line:match("^/(%a+)( .*)$")
	if cmd and EVENT_COMMANDS[cmd:lower()] then
		local masked = mask(rest)
		return masked and "/" .. cmd .. masked
	end
end)
