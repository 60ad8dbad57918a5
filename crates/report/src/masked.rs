//! The sources as reporters may quote or hash them: every secret the detectors know masked
//! ([`leastpriv_secrets::mask`]), and every value of [`Report::secrets`]. Each file is masked
//! once and whole, since a mask needs the lines around a value (a Kubernetes `name:` above its
//! `value:`, a private key's body below its header); masking keeps every byte offset.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leastpriv_secrets::mask;
use leastpriv_source::FileId;

use crate::Report;

pub(crate) struct MaskedSources<'r, 'a> {
    report: &'r Report<'a>,
    cache: RefCell<HashMap<FileId, Rc<str>>>,
}

impl<'r, 'a> MaskedSources<'r, 'a> {
    pub(crate) fn new(report: &'r Report<'a>) -> Self {
        Self {
            report,
            cache: RefCell::default(),
        }
    }

    /// The masked text of `file`, byte for byte as long as the original.
    pub(crate) fn text(&self, file: FileId) -> Rc<str> {
        Rc::clone(self.cache.borrow_mut().entry(file).or_insert_with(|| {
            let source = self.report.db.get(file);
            let masked = mask(source.text());
            Rc::from(self.report.secrets.scrub(&masked).as_ref())
        }))
    }
}
