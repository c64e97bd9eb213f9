#include <cstdio>

#include <gtest/gtest.h>
#include <systemc>

#include "sim/sc_support.hpp"

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  memplast::sim::install_report_handler(/*strict=*/true);
  int rc = RUN_ALL_TESTS();
  const auto failures = memplast::sim::report_failures();
  if (failures != 0) {
    std::fprintf(stderr, "FAILED: %llu SystemC warning(s)/error(s) reported during simulation\n",
                 static_cast<unsigned long long>(failures));
    rc = 1;
  }
  return rc;
}
