-- enemy.lua, version 3: runs 10 px per frame and can fire.
local SPEED = 10

local M = { frames = 0, x = 0, hp = 100 }

function M.update(dt)
  M.frames = M.frames + 1
  M.x = M.x + SPEED
end

function M.fire() return M.x end

function M.version() return 3 end

return M
