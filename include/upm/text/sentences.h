#pragma once
// Splitting prose (profiles) into sentences.

#include <string>
#include <vector>

namespace upm {

// A sentence ends at '.', '!' or '?' followed by a space, a newline or the end
// of the text, so a period inside a word (3.5, e.g) ends none; text after the
// last end is a sentence too. Each sentence comes without the spaces and
// newlines before it, and one of only spaces and newlines is dropped:
// "Likes a. Dislikes b." -> {"Likes a.", "Dislikes b."}.
std::vector<std::string> split_sentences(const std::string& text);

}  // namespace upm
