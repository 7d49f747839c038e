//! The reference semantics every adapter is judged by (cargo feature `testing`): what a filter
//! selects ([`Filter::matches`]) and the answer to a list query over a tenant's images
//! ([`select`], [`reference_page`]). The conformance kit compares stores with these.

use crate::image::Image;
use crate::query::eval::{
    equals_any, field_value, holds, literal_value, null_holds, string_call_holds, tags_hold,
};
use crate::query::Filter;
use crate::store::{compare_images, ImagePage, ListQuery};

impl Filter {
    /// Whether `image` matches this filter (two-valued logic: a test on a null field is false,
    /// so `not` of it is true).
    ///
    /// ```
    /// use dam_core::query::{parse_filter};
    /// # use dam_core::*;
    /// let image = Image::new(ImageId::new(7).unwrap(), Reference::new("Logo.PNG").unwrap(),
    ///     FileType::new("png").unwrap(), ImageStatus::Ready,
    ///     Timestamp::parse("2024-01-01T00:00:00").unwrap());
    /// assert!(parse_filter("endswith(reference,'.PNG') and id eq 7").unwrap().matches(&image));
    /// assert!(!parse_filter("contains(reference,'png')").unwrap().matches(&image));
    /// ```
    pub fn matches(&self, image: &Image) -> bool {
        match self {
            Filter::And(a, b) => a.matches(image) && b.matches(image),
            Filter::Or(a, b) => a.matches(image) || b.matches(image),
            Filter::Not(inner) => !inner.matches(image),
            Filter::Compare { field, op, value } => {
                holds(&field_value(image, *field), *op, &literal_value(value))
            }
            Filter::CompareFields { left, op, right } => {
                holds(&field_value(image, *left), *op, &field_value(image, *right))
            }
            Filter::IsNull { field, negated } => null_holds(image, *field, *negated),
            Filter::In { field, values } => equals_any(
                &field_value(image, *field),
                values.iter().map(literal_value),
            ),
            Filter::StringCall {
                function,
                field,
                needle,
            } => string_call_holds(image, *function, *field, needle),
            Filter::Tags { quantifier, value } => tags_hold(image, *quantifier, value),
        }
    }
}

/// The matches of `query` among `images`, in order.
fn ordered_matches<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> Vec<&'a Image> {
    let mut matches: Vec<&Image> = images
        .into_iter()
        .filter(|im| query.filter.as_ref().is_none_or(|f| f.matches(im)))
        .collect();
    matches.sort_by(|a, b| compare_images(a, b, &query.order_by));
    matches
}

/// The reference answer to a list query over `images` (all of one tenant): the page, and the
/// total number of matches.
pub fn select<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> (Vec<Image>, u64) {
    let matches = ordered_matches(images, query);
    let total = matches.len() as u64;
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let page = matches
        .into_iter()
        .skip(skip)
        .take(query.top as usize)
        .cloned()
        .collect();
    (page, total)
}

/// The reference answer to a list query over `images` (all of one tenant) as a store reports
/// it: the page, the total (with `count`), and whether more matches follow (fetched by the
/// page-plus-one rule of [`ListQuery::split_page`]).
pub fn reference_page<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> ImagePage {
    let matches = ordered_matches(images, query);
    let total = matches.len() as u64;
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let fetch = usize::try_from(query.fetch_limit()).unwrap_or(usize::MAX);
    let rows = matches
        .into_iter()
        .skip(skip)
        .take(fetch)
        .cloned()
        .collect();
    let (items, has_more) = query.split_page(rows);
    ImagePage {
        items,
        total: query.count.then_some(total),
        has_more,
    }
}
