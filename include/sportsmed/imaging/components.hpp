#pragma once
/// @file
/// Connected components (6/18/26 connectivity), largest-component selection and hole
/// filling, for binary masks and per label of a label map.
///
/// Labelling is a two-pass union-find over foreground runs along i (run-based labelling,
/// He, Chao & Suzuki 2008, extended to 3-D): each run is united with the runs it touches in
/// the earlier rows of its neighbourhood, in parallel over slabs along k that are merged
/// across slab boundaries, then every run is written with its component's label. Components are numbered 1..n in the
/// order of their first voxel in memory (Fortran) order; scipy.ndimage.label numbers in C
/// order, so the two agree up to a renumbering.

#include <cstdint>
#include <vector>

#include "sportsmed/imaging/volume.hpp"

namespace sportsmed::imaging {

/// Connected components of the nonzero voxels of @p mask.
/// @param connectivity 6 (faces), 18 (faces + edges) or 26 (faces + edges + corners).
/// @param out nx·ny·nz labels (0 background, 1..n components); every voxel is written, so it
///            may start uninitialised.
/// @return n, the number of components.
/// @throws InvalidArgument for another connectivity or more than 2³¹−1 voxels.
std::int32_t label_components(const std::uint8_t* mask, const Shape3& shape, int connectivity, std::int32_t* out);

/// Volume overload of label_components; the count is written to @p count if given.
Volume<std::int32_t> label_components(const Volume<std::uint8_t>& mask, int connectivity = 26,
                                      std::int32_t* count = nullptr);

/// Voxels per component: result[c] for c = 0..n (result[0] counts background).
std::vector<std::int64_t> component_sizes(const Volume<std::int32_t>& labels, std::int32_t count);

/// The largest connected component of @p mask (ties: the first in memory order); an
/// empty mask stays empty.
Volume<std::uint8_t> keep_largest_component(const Volume<std::uint8_t>& mask, int connectivity = 26);

/// Fills holes: background regions not connected (6-connectivity, as
/// scipy.ndimage.binary_fill_holes) to the grid border become foreground.
Volume<std::uint8_t> fill_holes(const Volume<std::uint8_t>& mask);

/// For each label value > 0 of @p labels: keep its largest component (others → 0).
/// @param only the labels to filter; the others are copied unchanged. Empty: every label.
Volume<std::uint8_t> keep_largest_component_per_label(const Volume<std::uint8_t>& labels, int connectivity = 26,
                                                      const std::vector<int>& only = {});

/// keep_largest_component_per_label, then the removed pieces (fragments) of a label in one of
/// @p join_groups (e.g. the bones {femur, tibia, patella}) are given back where their place is
/// unambiguous: a fragment that touches (@p connectivity) the kept voxels of exactly one other
/// label of its group joins that label, if it is smaller than the kept component of its own
/// label (a larger one is a large mislabelled region, such as a fat network labelled bone,
/// not a stray piece); it stays background otherwise. Bones of a joint do
/// not touch each other (cartilage and joint space lie between them), so a piece of bone
/// labelled femur that touches only the tibia is tibia: a window that sees a long-bone shaft
/// far from the joint cannot tell femur from tibia, its neighbourhood can. Repeated until no
/// fragment joins (a fragment may touch one that joined). A label may be in one group only.
///
/// @p anchors: rows of a label followed by its anchor labels (the femur and the femoral
/// cartilage: {1, 4}). For an anchored label the component kept is not the largest but the
/// one with the most voxels touching its anchors (as they are after filtering; the largest
/// when none touches): a bone is where its cartilage is, while a fat network labelled bone
/// can be larger than the bone. Anchored labels are filtered after all others; an anchor may
/// not itself be anchored.
Volume<std::uint8_t> keep_largest_component_per_label(const Volume<std::uint8_t>& labels, int connectivity,
                                                      const std::vector<int>& only,
                                                      const std::vector<std::vector<int>>& join_groups,
                                                      const std::vector<std::vector<int>>& anchors = {});

/// Removes the pieces of a label that touch none of its supports: @p rows are a label followed by
/// its support labels (the tibial cartilage and the tibia: {5, 2}); every @p connectivity-connected
/// piece of the label with no voxel touching (same connectivity) a voxel of a support becomes 0.
/// Cartilage lies on its bone and a meniscus on the tibial plateau, so a piece of either that
/// touches no bone (or cartilage) is a false positive, wherever it is. For labels in several
/// pieces (medial and lateral plateaus) that keep_largest_component_per_label cannot filter.
/// Rows apply in order, each to the labels as the rows before left them; a label may have one row
/// only and may not support itself.
Volume<std::uint8_t> remove_detached_components(const Volume<std::uint8_t>& labels,
                                                const std::vector<std::vector<int>>& rows, int connectivity = 26);

/// For each label value > 0 of @p labels: fill its holes with that label, where the hole
/// is background (0) in @p labels. Labels are processed in increasing order.
Volume<std::uint8_t> fill_holes_per_label(const Volume<std::uint8_t>& labels);

}  // namespace sportsmed::imaging
