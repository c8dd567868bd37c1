-- luacheck configuration (make lint runs `luacheck lua spec/lua`).
std = "luajit"
globals = {}
max_line_length = 120

-- busted specs: describe, it, before_each, assert, spy, mock, ...
files["spec"] = { std = "+busted" }
