// Package layout holds the house rule as a test: the lower rooms (store,
// printer, display, device, money) import nothing of the rooms above them
// (till, payment, cmd), so the data path reads one way, from the keys and
// the network down to the database, the printer and the display.
package layout
