// Shared by the testbenches' initiators: a generic payload set up for one access.
#pragma once

#include <cstdint>

#include <tlm>

namespace tb {

// cmd at addr over len bytes of data; byte enables (len of them) if given; streaming
// width len unless streaming_width is non-zero; response status incomplete.
inline void set_payload(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr,
                        void* data, unsigned len, unsigned char* byte_enable = nullptr,
                        unsigned streaming_width = 0) {
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(streaming_width == 0 ? len : streaming_width);
  gp.set_byte_enable_ptr(byte_enable);
  gp.set_byte_enable_length(byte_enable != nullptr ? len : 0);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
}

}  // namespace tb
