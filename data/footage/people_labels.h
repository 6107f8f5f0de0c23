// Person labels given by eye to tracks of a video: which tracks show the same person.
//
// A tracker only knows that a box continues a box; it cannot know that the man leaving the scene at frame 300 is
// the one who walks back in at frame 560. In Debian's vtest.avi about ten people walk past again and again, so
// "one track = one identity" would give the same person several identities, and a correct match across passes
// would count as a miss. The labels here name the person in a track by pointing at them: an anchor says "in
// this frame, the person whose detector box holds this point is person N". Anchors are coordinates, not track
// numbers, so they survive changes to the detector or tracker settings that renumber the tracks.
//
//   std::vector<int> person = gcl::data::LabelTracks(tracks, gcl::data::VtestPeople());
//   // person[i]: the person of tracks[i] (>= 1), kNoPerson (no anchor on it) or kNotOnePerson
//
// VtestPeople() was made by looking at every track's crops on the contact sheet of the default split
// (docs/real_footage.md says how, and what is left).
#ifndef GCL_DATA_FOOTAGE_PEOPLE_LABELS_H_
#define GCL_DATA_FOOTAGE_PEOPLE_LABELS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "data/footage/person_tracker.h"

namespace gcl::data {

struct PersonAnchor {
  int frame = 0;
  double x = 0.0;  // frame pixels
  double y = 0.0;
  int person = 0;  // >= 1, or 0: "not one person here" (a track through this point is dropped)
};

inline constexpr int kNoPerson = -1;     // no anchor fell on the track
inline constexpr int kNotOnePerson = 0;  // an anchor said 0, or anchors of two people fell on the track

// The person of each track (same order as `tracks`). An anchor falls on the track with a point at most
// `max_frame_distance` frames from the anchor's frame whose box holds (x, y); among several such tracks, the
// one whose box centre is nearest (then the lowest id). An anchor that falls on no track is ignored.
std::vector<int> LabelTracks(const std::vector<Track>& tracks, const std::vector<PersonAnchor>& anchors,
                             int max_frame_distance = 2);

// "frame x y person" per anchor, one a line; what the split's stamp records.
std::string PersonAnchorsToText(const std::vector<PersonAnchor>& anchors);

// FNV-1a (64-bit) of the bytes of Debian opencv-doc 4.6.0's examples/data/vtest.avi.
inline constexpr uint64_t kVtestFnv1a = 0x973da60cb63a9f38ull;

// The labels of vtest.avi (see above).
std::vector<PersonAnchor> VtestPeople();

// The labels known for a video with this FNV-1a hash of its bytes (VtestPeople() for vtest.avi), else none.
std::vector<PersonAnchor> KnownPeople(uint64_t video_fnv1a);

}  // namespace gcl::data

#endif  // GCL_DATA_FOOTAGE_PEOPLE_LABELS_H_
