#pragma once
// Include in tests that need LibTorch, instead of <catch2/catch.hpp>: Debian's LibTorch
// pulls in glog, whose CHECK macro (abort on failure) would silently replace Catch2's.

#include <torch/torch.h>
#ifdef CHECK
#undef CHECK
#endif
#include <catch2/catch.hpp>
