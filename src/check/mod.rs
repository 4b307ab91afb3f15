//! stage check
