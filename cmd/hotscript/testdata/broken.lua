-- broken.lua: a syntax error on line 4.
local M = {}
function M.update(dt)
  if dt > 0 M.x = 1 end
end
return M
