// Package configdir knows where cpikey keeps its own files: the config
// directory (profiles, preferences) and the cache directory (demo state,
// the wizard's debug trace), and the separate namespace a demo run uses so
// it never touches the user's real configuration.
package configdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// Dirs are cpikey's directories for one namespace (real or demo).
type Dirs struct {
	Config string // profiles.json, prefs.json
	Cache  string // demo-state.json, debug.log
}

// Default is os.UserConfigDir()/cpikey and os.UserCacheDir()/cpikey.
func Default() (Dirs, error) {
	cfg, err := os.UserConfigDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the user config directory: %w (set HOME, or XDG_CONFIG_HOME)", err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Dirs{}, fmt.Errorf("find the user cache directory: %w (set HOME, or XDG_CACHE_HOME)", err)
	}
	return Dirs{Config: filepath.Join(cfg, "cpikey"), Cache: filepath.Join(cache, "cpikey")}, nil
}

// Demo is the namespace of --demo runs, below the real one: removing it
// (--demo-reset) removes every trace a demo left.
func (d Dirs) Demo() Dirs {
	return Dirs{Config: filepath.Join(d.Config, "demo"), Cache: filepath.Join(d.Cache, "demo")}
}
