-- bench/publish-rewrite.lua: a publish hook that rewrites a word of every
-- message (linecast-bench pads its payloads with x; the length stays).
local lc = require "linecast"

lc.on("publish", function(msg)
	local text, n = msg.text:gsub("xxxxxxxx", "yyyyyyyy", 1)
	if n > 0 then
		return text
	end
end)
