-- enemy.lua, version 1: walks 1 px per frame.
-- The returned table is the script: its fields are state, carried across reloads;
-- its functions are code, always taken from the newest file.
local SPEED = 1

local M = { frames = 0, x = 0, hp = 100 }

function M.update(dt)
  M.frames = M.frames + 1
  M.x = M.x + SPEED
end

function M.version() return 1 end

-- get_state lets the demo show the state; the reload carries the fields without it.
function M.get_state() return { frames = M.frames, x = M.x, hp = M.hp } end

return M
