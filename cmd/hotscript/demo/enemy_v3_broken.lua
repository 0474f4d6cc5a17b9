-- enemy.lua, version 3 saved half-edited: the "then" is missing.
local SPEED = 10

local M = { frames = 0, x = 0, hp = 100 }

function M.update(dt)
  M.frames = M.frames + 1
  if M.hp > 0
    M.x = M.x + SPEED
  end
end

function M.fire() return M.x end

function M.version() return 3 end

-- get_state lets the demo show the state; the reload carries the fields without it.
function M.get_state() return { frames = M.frames, x = M.x, hp = M.hp } end

return M
