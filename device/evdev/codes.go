package evdev

import (
	"fmt"
	"strconv"
	"strings"
)

// codes are the key codes of linux/input-event-codes.h a keypad or a
// scanner sends, by name.
var codes = map[string]uint16{
	"KEY_ESC": 1, "KEY_1": 2, "KEY_2": 3, "KEY_3": 4, "KEY_4": 5, "KEY_5": 6, "KEY_6": 7, "KEY_7": 8, "KEY_8": 9,
	"KEY_9": 10, "KEY_0": 11, "KEY_MINUS": 12, "KEY_EQUAL": 13, "KEY_BACKSPACE": 14, "KEY_TAB": 15,
	"KEY_Q": 16, "KEY_W": 17, "KEY_E": 18, "KEY_R": 19, "KEY_T": 20, "KEY_Y": 21, "KEY_U": 22, "KEY_I": 23,
	"KEY_O": 24, "KEY_P": 25, "KEY_LEFTBRACE": 26, "KEY_RIGHTBRACE": 27, "KEY_ENTER": 28, "KEY_LEFTCTRL": 29,
	"KEY_A": 30, "KEY_S": 31, "KEY_D": 32, "KEY_F": 33, "KEY_G": 34, "KEY_H": 35, "KEY_J": 36, "KEY_K": 37,
	"KEY_L": 38, "KEY_SEMICOLON": 39, "KEY_APOSTROPHE": 40, "KEY_GRAVE": 41, "KEY_LEFTSHIFT": 42,
	"KEY_BACKSLASH": 43, "KEY_Z": 44, "KEY_X": 45, "KEY_C": 46, "KEY_V": 47, "KEY_B": 48, "KEY_N": 49,
	"KEY_M": 50, "KEY_COMMA": 51, "KEY_DOT": 52, "KEY_SLASH": 53, "KEY_RIGHTSHIFT": 54, "KEY_KPASTERISK": 55,
	"KEY_LEFTALT": 56, "KEY_SPACE": 57, "KEY_CAPSLOCK": 58, "KEY_F1": 59, "KEY_F2": 60, "KEY_F3": 61,
	"KEY_F4": 62, "KEY_F5": 63, "KEY_F6": 64, "KEY_F7": 65, "KEY_F8": 66, "KEY_F9": 67, "KEY_F10": 68,
	"KEY_NUMLOCK": 69, "KEY_SCROLLLOCK": 70, "KEY_KP7": 71, "KEY_KP8": 72, "KEY_KP9": 73, "KEY_KPMINUS": 74,
	"KEY_KP4": 75, "KEY_KP5": 76, "KEY_KP6": 77, "KEY_KPPLUS": 78, "KEY_KP1": 79, "KEY_KP2": 80, "KEY_KP3": 81,
	"KEY_KP0": 82, "KEY_KPDOT": 83, "KEY_102ND": 86, "KEY_F11": 87, "KEY_F12": 88, "KEY_KPENTER": 96,
	"KEY_RIGHTCTRL": 97, "KEY_KPSLASH": 98, "KEY_RIGHTALT": 100, "KEY_HOME": 102, "KEY_UP": 103,
	"KEY_PAGEUP": 104, "KEY_LEFT": 105, "KEY_RIGHT": 106, "KEY_END": 107, "KEY_DOWN": 108,
	"KEY_PAGEDOWN": 109, "KEY_INSERT": 110, "KEY_DELETE": 111, "KEY_KPEQUAL": 117, "KEY_KPCOMMA": 121,
	"KEY_KP00": 0x1da, // some POS keypads
}

// Code is the key code called name ("KEY_KP1"), or a number ("79").
func Code(name string) (uint16, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if c, ok := codes[n]; ok {
		return c, nil
	}
	if v, err := strconv.ParseUint(n, 10, 16); err == nil {
		return uint16(v), nil
	}
	if len(name) > 40 {
		name = name[:40] + "…"
	}
	return 0, fmt.Errorf("unknown key code %q: use a name from linux/input-event-codes.h such as KEY_KP1 or KEY_ENTER, or its number (evtest shows both)", name)
}

// CodeName is the name of code c, or its number.
func CodeName(c uint16) string {
	for n, v := range codes {
		if v == c {
			return n
		}
	}
	return strconv.Itoa(int(c))
}

// DefaultKeypad maps a standard USB numeric keypad to the register's
// functions.
var defaultKeypad = map[string]string{
	"KEY_KP0": "0", "KEY_KP1": "1", "KEY_KP2": "2", "KEY_KP3": "3", "KEY_KP4": "4", "KEY_KP5": "5",
	"KEY_KP6": "6", "KEY_KP7": "7", "KEY_KP8": "8", "KEY_KP9": "9", "KEY_KP00": "00",
	"KEY_0": "0", "KEY_1": "1", "KEY_2": "2", "KEY_3": "3", "KEY_4": "4", "KEY_5": "5",
	"KEY_6": "6", "KEY_7": "7", "KEY_8": "8", "KEY_9": "9",
	"KEY_KPENTER": "pay", "KEY_ENTER": "pay", "KEY_BACKSPACE": "back", "KEY_KPDOT": "clear",
	"KEY_ESC": "cancel", "KEY_NUMLOCK": "cancel", "KEY_KPMINUS": "refund", "KEY_KPPLUS": "phone",
	"KEY_KPSLASH": "copy", "KEY_KPASTERISK": "store",
}

// DefaultKeypad returns the default map of a USB numeric keypad, code name
// to function; a config's keys.evdev map replaces it.
func DefaultKeypad() map[string]string {
	m := make(map[string]string, len(defaultKeypad))
	for k, v := range defaultKeypad {
		m[k] = v
	}
	return m
}
