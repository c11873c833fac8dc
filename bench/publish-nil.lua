-- bench/publish-nil.lua: a publish hook that passes every message as it
-- is; scripts/bench-compare measures what such a hook costs.
local lc = require "linecast"

lc.on("publish", function(msg) end)
