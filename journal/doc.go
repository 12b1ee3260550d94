// Package journal is the register's side of the Norwegian cash register
// rules (kassasystemforskriften) around the electronic journal that store
// keeps: the signing key that signs every cash transaction, and the check
// that a journal's signatures verify and chain. Its subpackages turn the
// journal into X and Z reports (report) and the SAF-T Cash Register export
// (saft).
package journal
