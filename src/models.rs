//! Column types and the model kinds that bring a schema with them (MODELS.md).

use std::fmt;

/// The type of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ColumnType {
    Bool,
    Integer,
    Number,
    Date,
    String,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Bool => "bool",
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Date => "date",
            ColumnType::String => "string",
        }
    }

    pub fn from_name(name: &str) -> Option<ColumnType> {
        [
            ColumnType::Bool,
            ColumnType::Integer,
            ColumnType::Number,
            ColumnType::Date,
            ColumnType::String,
        ]
        .into_iter()
        .find(|ty| ty.as_str() == name)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The range of values a model writes into a numeric column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Domain {
    pub min: f64,
    pub max: f64,
    /// Said in a help line when a condition falls outside the domain.
    pub meaning: &'static str,
}

/// A column that a model kind's output table has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelColumn {
    pub name: &'static str,
    pub ty: ColumnType,
    pub required: bool,
    pub domain: Option<Domain>,
}

/// A prediction model whose output table segments are built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    TransactionalChurn,
    SubscriptionChurn,
    CustomerLifetimeValue,
    ProductRecommendation,
}

const PROBABILITY: Domain = Domain {
    min: 0.0,
    max: 1.0,
    meaning: "the score is a probability from 0 to 1",
};

const CHURN_COLUMNS: &[ModelColumn] = &[
    ModelColumn {
        name: "ChurnScore",
        ty: ColumnType::Number,
        required: true,
        domain: Some(PROBABILITY),
    },
    ModelColumn {
        name: "IsChurn",
        ty: ColumnType::Bool,
        required: true,
        domain: None,
    },
];

const CLV_COLUMNS: &[ModelColumn] = &[ModelColumn {
    name: "CLVScore",
    ty: ColumnType::Number,
    required: true,
    domain: Some(Domain {
        min: 0.0,
        max: f64::INFINITY,
        meaning: "the lifetime value is predicted revenue, 0 or more",
    }),
}];

const RECOMMENDATION_COLUMNS: &[ModelColumn] = &[
    ModelColumn {
        name: "ProductID",
        ty: ColumnType::String,
        required: true,
        domain: None,
    },
    ModelColumn {
        name: "Score",
        ty: ColumnType::Number,
        required: true,
        domain: None,
    },
    ModelColumn {
        name: "Rank",
        ty: ColumnType::Integer,
        required: false,
        domain: Some(Domain {
            min: 1.0,
            max: f64::INFINITY,
            meaning: "the rank is 1 for a customer's best recommendation",
        }),
    },
];

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [
        ModelKind::TransactionalChurn,
        ModelKind::SubscriptionChurn,
        ModelKind::CustomerLifetimeValue,
        ModelKind::ProductRecommendation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::TransactionalChurn => "transactional-churn",
            ModelKind::SubscriptionChurn => "subscription-churn",
            ModelKind::CustomerLifetimeValue => "customer-lifetime-value",
            ModelKind::ProductRecommendation => "product-recommendation",
        }
    }

    pub fn from_name(name: &str) -> Option<ModelKind> {
        ModelKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    pub fn columns(self) -> &'static [ModelColumn] {
        match self {
            ModelKind::TransactionalChurn | ModelKind::SubscriptionChurn => CHURN_COLUMNS,
            ModelKind::CustomerLifetimeValue => CLV_COLUMNS,
            ModelKind::ProductRecommendation => RECOMMENDATION_COLUMNS,
        }
    }

    /// Whether the model writes one row per customer (all but recommendations).
    pub fn one_row_per_key(self) -> bool {
        self != ModelKind::ProductRecommendation
    }

    pub fn column(self, name: &str) -> Option<&'static ModelColumn> {
        self.columns().iter().find(|column| column.name == name)
    }
}
