-- enemy.lua, version 2: runs 5 px per frame.
-- hp = 150 below is only an initial value: the carried hp of the running script wins.
local SPEED = 5

local M = { frames = 0, x = 0, hp = 150 }

function M.update(dt)
  M.frames = M.frames + 1
  M.x = M.x + SPEED
end

function M.version() return 2 end

-- get_state lets the demo show the state; the reload carries the fields without it.
function M.get_state() return { frames = M.frames, x = M.x, hp = M.hp } end

return M
