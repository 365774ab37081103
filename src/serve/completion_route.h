#pragma once
// POST /v1/chat/completions without the HTTP plumbing (private to serve/):
// body text in, response JSON out, or an ApiError with the status to send.

#include <string>

#include <nlohmann/json.hpp>

#include "upm/serve/chat_server.h"

namespace upm::serve {

class ChatEngine;

nlohmann::json complete_chat_body(ChatEngine& engine, const ChatServerConfig& limits, const std::string& body);

// GET /v1/models for the engine's one model.
nlohmann::json models_body(const ChatEngine& engine);

}  // namespace upm::serve
