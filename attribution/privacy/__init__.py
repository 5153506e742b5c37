"""Data-subject erasure and account retention (docs/privacy.md, "Erasure and retention").

`services.erase_person` erases one person on request; `services.anonymise_older_than` is the
retention sweep. Both replace identities by irreversible pseudonyms (`pseudonyms`) rather than
blanking them, so every report figure, distinct callers included, stays what it was."""
