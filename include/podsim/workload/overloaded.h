// The "overloaded" idiom for std::visit: one lambda per alternative of a variant.
#pragma once

namespace podsim {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace podsim
