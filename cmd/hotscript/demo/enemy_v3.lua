-- enemy.lua, version 3: runs 10 px per frame while alive, and can fire.
local SPEED = 10

local M = { frames = 0, x = 0, hp = 100 }

function M.update(dt)
  M.frames = M.frames + 1
  if M.hp > 0 then
    M.x = M.x + SPEED
  end
end

function M.fire() return M.x end

function M.version() return 3 end

-- get_state lets the demo show the state; the reload carries the fields without it.
function M.get_state() return { frames = M.frames, x = M.x, hp = M.hp } end

return M
