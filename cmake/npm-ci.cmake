# SPDX-License-Identifier: Apache-2.0
# `npm ci` in a directory only when its package-lock.json changed since the last install: the
# lock file's SHA-256 is kept in node_modules/.agentlens-lock-sha256 (gone with node_modules).
#
#   include(npm-ci.cmake) then al_npm_ci(DIR NPM)   (the caller holds any lock it needs)
#   cmake -DDIR=dir -DNPM=npm -P npm-ci.cmake       (locks DIR/.npm.lock: build trees and test
#                                                    runs may share the directory)

function(al_npm_ci dir npm)
  if(NOT EXISTS ${dir}/package-lock.json)
    message(FATAL_ERROR "${dir}/package-lock.json not found: npm ci installs from the lock file")
  endif()
  file(SHA256 ${dir}/package-lock.json want)
  set(have "")
  if(EXISTS ${dir}/node_modules/.agentlens-lock-sha256)
    file(READ ${dir}/node_modules/.agentlens-lock-sha256 have)
    string(STRIP "${have}" have)
  endif()
  if(have STREQUAL want)
    return()
  endif()
  message(STATUS "npm ci in ${dir} (package-lock.json changed)")
  execute_process(COMMAND ${npm} ci --no-audit --no-fund --loglevel=error
                  WORKING_DIRECTORY ${dir} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "`npm ci` failed (${rc}) in ${dir}")
  endif()
  file(WRITE ${dir}/node_modules/.agentlens-lock-sha256 "${want}\n")
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT DEFINED DIR OR NOT DEFINED NPM)
    message(FATAL_ERROR "usage: cmake -DDIR=dir -DNPM=npm -P npm-ci.cmake")
  endif()
  file(LOCK ${DIR}/.npm.lock GUARD PROCESS TIMEOUT 900 RESULT_VARIABLE lock_rc)
  if(NOT lock_rc STREQUAL "0")
    message(FATAL_ERROR "could not lock ${DIR}/.npm.lock: ${lock_rc}")
  endif()
  al_npm_ci(${DIR} ${NPM})
endif()
