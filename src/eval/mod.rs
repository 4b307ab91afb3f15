//! stage eval
