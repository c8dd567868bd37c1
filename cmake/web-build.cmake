# SPDX-License-Identifier: Apache-2.0
# Builds (optionally) and stages the web UI for embedding: the staged tree is what the binary
# serves, each compressible file next to its gzip -9 variant (FILE.gz) when that is smaller.
#
#   cmake -DSTAGE=dir -DSTAMP=file [-DWEB_DIR=web -DNPM=/usr/bin/npm] [-DSRC=dir] -P web-build.cmake
#
# With NPM: under a lock on WEB_DIR/.build.lock (several build trees share web/node_modules and
# web/dist), `npm ci` when package-lock.json changed (npm-ci.cmake), then `npm run build`, and
# WEB_DIR/dist is staged. Without NPM, SRC (a prebuilt dist or the fallback page) is staged.
# STAMP (the list of staged files and sizes) is written last.

foreach(var STAGE STAMP)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "web-build.cmake: -D${var}= is required")
  endif()
endforeach()

find_program(GZIP gzip)
if(NOT GZIP)
  message(FATAL_ERROR "web-build.cmake: gzip not found (it precompresses the web assets)")
endif()

function(run_checked what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${WEB_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web UI: `${what}` failed (${rc}) in ${WEB_DIR}. Fix the error above, or "
                        "configure with -DAGENTLENS_WEB=OFF to embed the fallback page instead.")
  endif()
endfunction()

# Copies SRC to STAGE (replacing it) while the lock, if any, is held.
function(copy_tree src)
  if(NOT EXISTS ${src}/index.html)
    message(FATAL_ERROR "web UI: ${src}/index.html does not exist")
  endif()
  file(REMOVE_RECURSE ${STAGE})
  file(MAKE_DIRECTORY ${STAGE})
  file(COPY ${src}/ DESTINATION ${STAGE})
endfunction()

if(DEFINED NPM AND NPM)
  if(NOT DEFINED WEB_DIR)
    message(FATAL_ERROR "web-build.cmake: -DWEB_DIR= is required with -DNPM=")
  endif()
  file(LOCK ${WEB_DIR}/.build.lock GUARD PROCESS TIMEOUT 900 RESULT_VARIABLE lock_rc)
  if(NOT lock_rc STREQUAL "0")
    message(FATAL_ERROR "web UI: could not lock ${WEB_DIR}/.build.lock: ${lock_rc}")
  endif()
  include(${CMAKE_CURRENT_LIST_DIR}/npm-ci.cmake)
  al_npm_ci(${WEB_DIR} ${NPM})
  message(STATUS "web UI: npm run build")
  run_checked("npm run build" ${NPM} run build --silent)
  copy_tree(${WEB_DIR}/dist)
  file(LOCK ${WEB_DIR}/.build.lock RELEASE)
else()
  if(NOT DEFINED SRC)
    message(FATAL_ERROR "web-build.cmake: -DSRC= or -DNPM= is required")
  endif()
  copy_tree(${SRC})
endif()

# Precompression: text formats only (images and fonts are compressed already); a variant that
# saves less than 10 % is not worth a second copy in the binary. -n: no name or time stamp in
# the header, so the bytes (and the ETag) depend on the content only.
file(GLOB_RECURSE staged RELATIVE ${STAGE} ${STAGE}/*)
list(SORT staged)
set(manifest "")
foreach(rel IN LISTS staged)
  set(path ${STAGE}/${rel})
  file(SIZE ${path} size)
  string(APPEND manifest "${rel} ${size}\n")
  if(NOT rel MATCHES "\\.(html|js|mjs|css|json|map|svg|txt|xml|webmanifest|ico)$" OR size LESS 256)
    continue()
  endif()
  execute_process(COMMAND ${GZIP} -9 -n -c ${path} OUTPUT_FILE ${path}.gz RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "web UI: gzip failed on ${path}")
  endif()
  file(SIZE ${path}.gz gz_size)
  math(EXPR limit "${size} * 9 / 10")
  if(gz_size GREATER limit)
    file(REMOVE ${path}.gz)
  else()
    string(APPEND manifest "${rel}.gz ${gz_size}\n")
  endif()
endforeach()

file(WRITE ${STAMP} "${manifest}")
