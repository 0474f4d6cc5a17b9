-- number.lua: a chunk that returns a number instead of a module table.
return 5
