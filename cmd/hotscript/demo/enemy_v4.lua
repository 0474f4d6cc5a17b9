-- enemy.lua, version 4 breaks the host's contract: update was renamed to tick,
-- so the host rejects it before any swap.
local SPEED = 10

local M = { frames = 0, x = 0, hp = 100 }

function M.tick(dt)
  M.frames = M.frames + 1
  if M.hp > 0 then
    M.x = M.x + SPEED
  end
end

function M.fire() return M.x end

function M.version() return 4 end

-- get_state lets the demo show the state; the reload carries the fields without it.
function M.get_state() return { frames = M.frames, x = M.x, hp = M.hp } end

return M
