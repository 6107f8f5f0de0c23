#include "actors/protocol.h"

#include <caf/deep_to_string.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <caf/message.hpp>

namespace gcl::actors {

std::string to_string(gcl_errc code) {
  switch (code) {
    case gcl_errc::protocol:
      return "protocol";
    case gcl_errc::step_failed:
      return "step_failed";
    case gcl_errc::cluster_failed:
      return "cluster_failed";
    case gcl_errc::io_failed:
      return "io_failed";
    case gcl_errc::not_ready:
      return "not_ready";
    case gcl_errc::job_failed:
      return "job_failed";
    case gcl_errc::job_lost:
      return "job_lost";
    case gcl_errc::unauthorized:
      return "unauthorized";
  }
  return "unknown";
}

caf::actor_system_config& AddProtocolTypes(caf::actor_system_config& cfg) {
  AddMessageTypes(cfg);
  cfg.add_message_types<caf::id_block::gcl_protocol>();
  cfg.add_error_category(caf::atom("gcl_errc"), [](uint8_t code, caf::atom_value, const caf::message& context) {
    std::string text = "gcl_errc: " + to_string(static_cast<gcl_errc>(code));
    if (!context.empty()) text += " " + caf::deep_to_string(context);
    return text;
  });
  return cfg;
}

caf::error MakeProtocolError(const std::string& problem) { return caf::make_error(gcl_errc::protocol, problem); }

caf::error MakeJobError(gcl_errc code, const std::string& cause) { return caf::make_error(code, cause); }

bool IsError(const caf::error& error, gcl_errc code) {
  return error.category() == caf::atom("gcl_errc") && error.code() == static_cast<uint8_t>(code);
}

std::string DescribeError(const caf::error& error) {
  if (!error) return "no error";
  std::string text;
  if (error.category() == caf::atom("gcl_errc")) {
    text = "gcl_errc: " + to_string(static_cast<gcl_errc>(error.code()));
  } else if (error.category() == caf::atom("system")) {
    // CAF's own errors by name ("request_timeout", not "code 4"); the callers add what it means for them.
    text = "system: " + caf::to_string(static_cast<caf::sec>(error.code()));
  } else if (error.category() == caf::atom("exit")) {
    text = "exit: " + caf::to_string(static_cast<caf::exit_reason>(error.code()));
  } else {
    text = caf::to_string(error.category()) + ": code " + std::to_string(error.code());
  }
  const caf::message& context = error.context();
  if (!context.empty()) {
    if (context.size() == 1 && context.match_element<std::string>(0)) {
      text += " (" + context.get_as<std::string>(0) + ")";
    } else {
      text += " " + caf::deep_to_string(context);
    }
  }
  return text;
}

}  // namespace gcl::actors
