-- bench/line-nil.lua: a line hook that passes every line as it is;
-- scripts/bench-compare measures what such a hook costs.
local lc = require "linecast"

lc.on("line", function(conn, line) end)
