module github.com/hotscript/hotscript

go 1.26

require (
	github.com/fsnotify/fsnotify v1.10.1
	github.com/tetratelabs/wazero v1.12.0
	github.com/yuin/gopher-lua v1.1.2
)

require golang.org/x/sys v0.44.0 // indirect
